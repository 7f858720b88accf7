"""A self-contained, browsable page of the API, rendered on the server from the OpenAPI document.

No script, no CDN, no inline style (the app's Content-Security-Policy forbids them); the page
is plain semantic HTML that any browser and a screen reader can read.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_METHOD_ORDER = ("get", "post", "put", "head", "delete")


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else str(schema.get("type", ""))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    params = "".join(
        f"<li><code>{escape(p['name'])}</code> ({escape(p['in'])}"
        f"{', bắt buộc / required' if p.get('required') else ''})"
        f"{' — ' + escape(p['description']) if p.get('description') else ''}</li>"
        for p in op.get("parameters", [])
    )
    responses = "".join(
        f"<tr><td>{escape(code)}</td><td>{escape(str(r.get('description', r.get('$ref', '').rsplit('/', 1)[-1])))}</td></tr>"
        for code, r in op.get("responses", {}).items()
    )
    body = op.get("requestBody", {}).get("content", {})
    body_html = ""
    for media, spec in body.items():
        example = spec.get("example")
        body_html += (
            f"<p>Body: <code>{escape(media)}</code> {escape(_schema_name(spec.get('schema', {})))}</p>"
        )
        if example is not None:
            body_html += f"<pre>{escape(json.dumps(example, ensure_ascii=False, indent=2))}</pre>"
    anchor = escape(op.get("operationId", f"{method}-{path}"))
    return (
        f'<section id="{anchor}"><h3><code>{method.upper()} /api/v1{escape(path)}</code></h3>'
        f"<p>{escape(op.get('description', ''))}</p><p><em>{escape(op.get('summary', ''))}</em></p>"
        f"{'<ul>' + params + '</ul>' if params else ''}{body_html}"
        f"<table><thead><tr><th>status</th><th>meaning</th></tr></thead><tbody>{responses}</tbody></table>"
        "</section>"
    )


def render_docs(document: dict[str, Any]) -> str:
    """Return the HTML page listing every operation, its parameters, body and answers."""
    info = document["info"]
    ops = []
    toc = []
    for path, item in document["paths"].items():
        for method in _METHOD_ORDER:
            if method in item:
                op = item[method]
                ops.append(_operation(path, method, op))
                toc.append(
                    f'<li><a href="#{escape(op.get("operationId", ""))}">'
                    f"<code>{method.upper()} {escape(path)}</code></a> — {escape(op.get('summary', ''))}</li>"
                )
    schemas = "".join(
        f"<li><code>{escape(name)}</code>: {escape(', '.join(s.get('properties', {}).keys()))}</li>"
        for name, s in document["components"]["schemas"].items()
    )
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title></head><body>"
        f"<h1>{escape(info['title'])} {escape(info['version'])}</h1>"
        f"<p>{escape(info['summary'])}</p><p>{escape(info['description'])}</p>"
        "<p>Xác thực / authentication: <code>Authorization: Bearer &lt;prefix&gt;.&lt;secret&gt;</code>. "
        'Tài liệu máy đọc / machine-readable: <a href="openapi.json">openapi.json</a>.</p>'
        f"<h2>Endpoints</h2><ul>{''.join(toc)}</ul>{''.join(ops)}"
        f"<h2>Schemas</h2><ul>{schemas}</ul></body></html>"
    )


__all__ = ["render_docs"]
