"""Hotel vouchers behind the letter: the establishments that take them, redemption, reimbursement.

``establishments`` checks, imports, registers and approves establishments; ``redemption`` redeems a
voucher once (one idempotent transaction keyed by a nonce), undoes a mistaken scan and lists an
establishment's own redemptions.
"""
