from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from courrier.production.presort import SortablePiece, house_number_key, plan_jobs, presort_key


def piece(
    piece_id: int, postcode: str = "L-1234", sheets: int = 1, country: str = "LU", **other: str
) -> SortablePiece:
    values = {
        "locality": "Luxembourg",
        "street": "rue de la Gare",
        "house_number": "1",
        "family_name": "A",
        "given_names": "B",
    }
    return SortablePiece(
        piece_id=piece_id, sheets=sheets, country=country, postcode=postcode, **(values | other)
    )


def test_house_numbers_sort_as_numbers():
    numbers = ["101", "12A", "2", "12", "", "12b"]
    assert sorted(numbers, key=house_number_key) == ["", "2", "12", "12A", "12b", "101"]


def test_presort_order_country_postcode_street_number_name():
    pieces = [
        piece(1, "L-2000", street="rue B"),
        piece(2, "57100", country="FR"),
        piece(3, "L-1000", street="rue B", house_number="10"),
        piece(4, "L-1000", street="rue B", house_number="9"),
        piece(5, "L-1000", street="Avenue A"),
    ]
    assert [p.piece_id for p in sorted(pieces, key=presort_key)] == [5, 4, 3, 1, 2]


def test_domestic_and_foreign_mail_never_share_a_job():
    jobs = plan_jobs([piece(1), piece(2, "6700", country="BE"), piece(3)], job_size_sheets=100)
    assert [(job.domestic, [p.piece_id for p in job.pieces]) for job in jobs] == [
        (True, [1, 3]),
        (False, [2]),
    ]


def test_a_job_is_cut_at_a_nearby_postcode_boundary():
    # 95 sheets of L-1000, then L-2000: a 100-sheet job ends at the boundary, not in the middle of L-2000.
    pieces = [piece(n, "L-1000") for n in range(95)] + [piece(100 + n, "L-2000") for n in range(20)]
    jobs = plan_jobs(pieces, job_size_sheets=100, boundary_window=0.1)
    assert [job.sheets for job in jobs] == [95, 20]
    assert {p.postcode for p in jobs[1].pieces} == {"L-2000"}


def test_without_a_near_boundary_a_job_is_cut_at_its_size():
    pieces = [piece(n, "L-1000") for n in range(50)] + [piece(100 + n, "L-2000") for n in range(120)]
    jobs = plan_jobs(pieces, job_size_sheets=100, boundary_window=0.1)
    assert [job.sheets for job in jobs] == [100, 70]


pieces_strategy = st.lists(
    st.builds(
        piece,
        piece_id=st.integers(1, 10**6),
        postcode=st.sampled_from(["L-1000", "L-1001", "L-2000", "L-4000", "L-9000"]),
        sheets=st.integers(1, 3),
        country=st.sampled_from(["LU", "LU", "LU", "FR", "BE", "DE"]),
    ),
    max_size=200,
    unique_by=lambda p: p.piece_id,
)


@given(pieces_strategy, st.integers(3, 60))
def test_every_piece_lands_in_exactly_one_job_within_its_size(pieces, size):
    jobs = plan_jobs(pieces, job_size_sheets=size)
    placed = [p.piece_id for job in jobs for p in job.pieces]
    assert sorted(placed) == sorted(p.piece_id for p in pieces)
    assert all(job.sheets <= size for job in jobs)
    assert [job.number for job in jobs] == list(range(1, len(jobs) + 1))
    assert plan_jobs(list(reversed(pieces)), job_size_sheets=size) == jobs
