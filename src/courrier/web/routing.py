"""Routers added to the app route by route, instead of through FastAPI's ``include_router``.

FastAPI (0.165) keeps an included router as one entry of the app's routes and resolves it on every
request: the app asks each included router in turn whether the request is one of its routes (the router
first adds up the versions of its routes, to see whether its resolved copies are still current, then
tries its routes), and the router that says yes tries its routes a second time, from the first, when it
handles the request (a router included in an included router, as each page's router was, once more).
Added to the app one by one, the same routes are tried once, in the same order, as
routes declared on the app are.

Each route is made again on the app from its own settings (its router's prefix, tags, dependencies and
defaults are already in them, as FastAPI put them when the route was declared), in its own route class:
the same handler, the same OpenAPI operation, the same 404, 405 and redirect answers. A router with
settings that are only applied when it is included (form limits, startup and shutdown handlers) or a
route that is not a FastAPI route is refused, rather than added with a difference.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Adds ``router``'s routes to ``app`` in their order, each as if declared on ``app``."""
    if router.form_limits or router.on_startup or router.on_shutdown:
        raise ValueError(f"a router with form limits or event handlers must be included: {router.prefix!r}")
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.stream_item_type is not None:
            # A streamed route's item type is worked out from a response model left to its default,
            # which the route no longer holds; other routes (mounts, included routers) have no settings
            # to copy.
            raise TypeError(f"not a plain FastAPI route, include its router instead: {route!r}")
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits or None,
        )
