"""The OpenAPI document and a readable page of it, both public: the document describes
the API, it holds no data. The page is rendered on the server from the document itself
(no script, nothing from another site)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

from learnnet.access import PUBLIC, requires
from learnnet.api.paths import API_PREFIX

bp = Blueprint("api_docs", __name__, url_prefix=API_PREFIX)

METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this app's API."""
    return current_app.extensions["learnnet-api"].spec.to_dict()


@bp.route("/openapi.json")
@requires(PUBLIC)
def openapi() -> Any:
    """The document, for tools (schemathesis, code generators, a CRM's connector)."""
    return jsonify(document())


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        kind = node["$ref"].split("/")[2]
        return spec["components"][kind][name]
    return node


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations in reading order, with references resolved one level."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            shared = item.get("parameters", [])
            params = [_resolve(spec, p) for p in (*shared, *op.get("parameters", []))]
            responses = []
            for code, response in op.get("responses", {}).items():
                response = _resolve(spec, response)
                content = response.get("content", {})
                media, body = next(iter(content.items()), (None, {}))
                schema = (body or {}).get("schema", {})
                responses.append(
                    {
                        "code": code,
                        "description": response.get("description", ""),
                        "media": media,
                        "schema": schema.get("$ref", "").rsplit("/", 1)[-1],
                    }
                )
            content = _resolve(spec, op.get("requestBody", {})).get("content", {})
            body_schema = next(iter(content.values()), {}).get("schema", {})
            found.append(
                {
                    "body": body_schema.get("$ref", "").rsplit("/", 1)[-1],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": params,
                    "responses": responses,
                }
            )
    return found


def paragraphs(text: str) -> list[list[tuple[str, bool]]]:
    """A description's paragraphs, each as (text, is_code) pieces: `backticks` are code."""
    return [
        [(piece, i % 2 == 1) for i, piece in enumerate(para.replace("\n", " ").split("`"))]
        for para in text.split("\n\n")
    ]


def schemas(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The document's named schemas, by name."""
    return sorted(spec.get("components", {}).get("schemas", {}).items())


@bp.route("/docs")
@requires(PUBLIC)
def page() -> str:
    """The document as a page to read."""
    spec = document()
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=operations(spec),
        schemas=schemas(spec),
        intro=paragraphs(spec["info"].get("description", "")),
    )
