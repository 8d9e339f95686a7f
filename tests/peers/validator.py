"""A validating reverse proxy: forwards every request to a fake and checks the
request and the answer against the provider's upstream OpenAPI spec.

    python validator.py PROVIDER UPSTREAM_DIR FAKE_URL --port-file FILE --log FILE

PROVIDER is contabo, digitalocean or ionos; UPSTREAM_DIR holds the upstream
specs (see its SOURCES.md). The proxy listens on an ephemeral loopback port
(written to --port-file once it is ready) and forwards everything unchanged,
answers included, so the client sees exactly what the fake said; each
violation is printed and appended to --log as one JSON line. A violation that
is in EXCEPTIONS below (a place where the real API and the upstream spec
disagree) is printed as "excepted" and not logged. Each kind of violation is
reported once, at its first occurrence (list indices aside).
"""

import argparse
import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse
from pathlib import Path

import yaml
from openapi_core import OpenAPI
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.testing import MockRequest, MockResponse

HERE = Path(__file__).resolve().parent

# Paths that are not part of the API a spec describes and are passed through
# unchecked: Contabo's token endpoint is Keycloak's (auth.contabo.com), not
# api.contabo.com's.
PASSTHROUGH = {
    "contabo": ["/auth/realms/contabo/protocol/openid-connect/token"],
    "digitalocean": [],
    "ionos": [],
}

# Where the real API and the upstream spec disagree, and the fakes follow the
# real API: each entry is a provider, an operationId (a regular expression),
# a regular expression the violation's text must match, and why. Nothing
# else is excepted.
EXCEPTIONS = [
    {
        "provider": "contabo",
        "operation": r".*",
        "match": r"^response exchange: Unknown response http status: [45]\d\d$",
        "reason": "Contabo's spec declares only success responses; the API answers "
        "errors with a status and {statusCode, message} (a 404 is 'Entry Image "
        "not found by imageId ...').",
    },
    {
        "provider": "digitalocean",
        "operation": r"images_.*|imageActions_.*",
        "match": r"regions\[\d+\]: '[a-z]+[0-9]' is not one of ",
        "reason": "shared/attributes/region_slug.yml is a closed list that new "
        "regions outgrow: atl1 (Atlanta, opened 2024) is a region the API lists "
        "and serves images in.",
    },
    {
        "provider": "digitalocean",
        "operation": r"images_.*",
        "match": r"\.distribution: 'AlmaLinux' is not one of ",
        "reason": "shared/attributes/distribution.yml lists the distributions a "
        "custom image may name; DigitalOcean's own AlmaLinux images (almalinux-9-x64) "
        "answer with distribution AlmaLinux.",
    },
    {
        "provider": "ionos",
        "operation": r"images.*|requests.*",
        "match": r"\.type: '[a-z-]+' is not of type 'object'$",
        "reason": "The spec contradicts itself: `type: object` beside an allOf of "
        "a $ref to the string schema Type (openapi-generator writes a described "
        "$ref that way); its own examples and the API send a string.",
    },
    {
        "provider": "ionos",
        "operation": r"imagesGet",
        "match": r"^response body: at \.items\[\d+\]: '(properties|metadata)' is a required property$",
        "reason": "At depth=0 (the default) a collection's items are references "
        "(id, type, href) without properties or metadata: the depth parameter's "
        "own description says so.",
    },
    {
        "provider": "ionos",
        "operation": r"images.*",
        "match": r"\.licenceType: '(WINDOWS2025|RHEL)' is not one of ",
        "reason": "Licence types added after this spec (6.1.4, 2023): IONOS's own "
        "Python SDK 6.1.13 allows WINDOWS2025 and RHEL.",
    },
    {
        "provider": "ionos",
        "operation": r"imagesPatch",
        "match": r"^request body: at \(root\): 'licenceType' is a required property$",
        "reason": "PATCH changes only the properties it sends; the spec reuses "
        "ImageProperties, whose licenceType is required for PUT, and the SDK's "
        "rename sends only the name.",
    },
    {
        "provider": "ionos",
        "operation": r"images(Put|Patch|Delete)",
        "match": r"^response header: Location: at \(root\): '.*' does not match "
        r"'https://\[apiBaseUri\]/requests/\[requestId\]/status'$",
        "reason": "The Location header's `pattern` is a placeholder "
        "(https://[apiBaseUri]/requests/[requestId]/status), not a regular "
        "expression any real URL matches; the request id is checked by the client "
        "scripts instead.",
    },
]


def load_spec(provider, upstream):
    """The provider's upstream spec as an OpenAPI object, and its server URL."""
    if provider == "contabo":
        path = upstream / "contabo-openapi.yaml"
        base_uri = path.as_uri()
        document = read_yaml(path)
    elif provider == "ionos":
        path = upstream / "ionos-cloudapi.yaml"
        base_uri = path.as_uri()
        document = read_yaml(path)
    elif provider == "digitalocean":
        # Upstream's root file is not among the copies: its images part (the
        # path map in upstream's SOURCES.md) is digitalocean-root.yaml, with
        # references relative to the copied `digitalocean/` folder.
        folder = upstream / "digitalocean"
        document = read_yaml(HERE / "digitalocean-root.yaml")
        inline_operations(document, folder)
        base_uri = folder.as_uri() + "/"
    else:
        sys.exit(f"unknown provider {provider!r}")
    no_empty_content(document)
    return OpenAPI.from_dict(document, base_uri=base_uri), document["servers"][0]["url"]


def no_empty_content(node):
    """Drops `content: {}` (IONOS's 202 to a DELETE): it means no body, as an
    absent `content` does, but openapi-core reads it as a body it misses."""
    if isinstance(node, dict):
        if node.get("content") == {}:
            del node["content"]
        for value in node.values():
            no_empty_content(value)
    elif isinstance(node, list):
        for value in node:
            no_empty_content(value)


def inline_operations(document, folder):
    """Replaces each operation that is a `$ref` to a file by that file's
    content. OpenAPI 3.0 has no `$ref` for an operation (upstream's bundler
    inlines them); the file's own references are made absolute, so that they
    still point where they did."""
    for item in document["paths"].values():
        for method, operation in item.items():
            ref = operation.get("$ref") if isinstance(operation, dict) else None
            if ref:
                path = (folder / ref).resolve()
                content = read_yaml(path)
                content.pop("x-codeSamples", None)
                item[method] = absolute_refs(content, path.parent)


def absolute_refs(node, base):
    """node with each relative reference (a `$ref`, a discriminator's
    mapping) made absolute against the folder base."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref":
                value = absolute(value, base)
            elif key == "discriminator" and isinstance(value, dict) and "mapping" in value:
                value = {**value, "mapping": {k: absolute(v, base) for k, v in value["mapping"].items()}}
            out[key] = absolute_refs(value, base)
        return out
    if isinstance(node, list):
        return [absolute_refs(v, base) for v in node]
    return node


def absolute(ref, base):
    if not isinstance(ref, str) or ref.startswith("#"):
        return ref
    file, _, fragment = ref.partition("#")
    return (base / file).resolve().as_uri() + (f"#{fragment}" if fragment else "")


def read_yaml(path):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


def describe(error, prefix=""):
    """Flattens an openapi-core error into lines of text, each naming where."""
    lines = []
    context = getattr(error, "context", None)
    if context:
        for inner in context:
            lines.extend(describe(inner, prefix))
        return lines
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    name = getattr(error, "name", None)
    where = f"{prefix}{name}: " if name else prefix
    if schema_errors:
        for e in schema_errors:
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
            lines.append(f"{where}at {path or '(root)'}: {e.message}")
    else:
        text = str(error) or type(error).__name__
        if cause is not None and str(cause) and str(cause) not in text:
            text = f"{text}: {cause}"
        lines.append(f"{where}{text}")
    return lines


def kind(error):
    """Which part of the exchange an error is about."""
    name = type(error).__name__
    if "Header" in name:
        return "header"
    if "Parameter" in name:
        return "parameter"
    if "Security" in name:
        return "security"
    if "Body" in name or "Data" in name or "MediaType" in name:
        return "body"
    return "exchange"


class Validator:
    def __init__(self, provider, upstream, target, log):
        self.provider = provider
        self.openapi, self.server = load_spec(provider, upstream)
        # The spec's server (scheme, host) stands in for the fake's address;
        # the path is kept, so a fake that lacks the spec's base path
        # (`/cloudapi/v6`) is found out.
        split = urllib.parse.urlsplit(self.server)
        self.host_url = f"{split.scheme}://{split.netloc}"
        self.finder = APICallPathFinder(self.openapi.spec)
        self.target = urllib.parse.urlsplit(target)
        self.log = log
        self.lock = threading.Lock()
        # Each kind of violation (operation, status, the problem with list
        # indices as [*]) is reported once, at its first occurrence.
        self.seen = set()

    def operation(self, method, path):
        try:
            found = self.finder.find(method.lower(), self.host_url + path)
        except Exception:  # noqa: BLE001 - reported by the validation itself
            return "?"
        return found.operation.get("operationId", "?")

    def check(self, method, path, query, headers, body, status, answer_headers, answer):
        request = MockRequest(
            self.host_url,
            method,
            path,
            args=urllib.parse.parse_qsl(query, keep_blank_values=True),
            headers=dict(headers),
            data=body or None,
            content_type=headers.get("content-type", "application/json").split(";")[0].strip(),
        )
        response = MockResponse(
            answer,
            status_code=status,
            headers=dict(answer_headers),
            content_type=(answer_headers.get("content-type") or "").split(";")[0].strip() or None,
        )
        problems = []
        for error in self.openapi.iter_request_errors(request):
            problems += [f"request {kind(error)}: {line}" for line in describe(error)]
        for error in self.openapi.iter_response_errors(request, response):
            problems += [f"response {kind(error)}: {line}" for line in describe(error)]
        return problems

    def excepted(self, operation, problem):
        for rule in EXCEPTIONS:
            if (
                rule["provider"] == self.provider
                and re.fullmatch(rule["operation"], operation)
                and re.search(rule["match"], problem)
            ):
                return rule
        return None

    def record(self, method, target, status, operation, problems):
        with self.lock:
            for problem in problems:
                key = (operation, status, re.sub(r"\[\d+\]", "[*]", problem))
                if key in self.seen:
                    continue
                self.seen.add(key)
                rule = self.excepted(operation, problem)
                line = f"{self.provider} {operation} {method} {target} -> {status}: {problem}"
                if rule:
                    print(f"validator: excepted: {line}", flush=True)
                    continue
                print(f"validator: VIOLATION: {line}", flush=True)
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(
                        json.dumps(
                            {
                                "provider": self.provider,
                                "operation": operation,
                                "method": method,
                                "target": target,
                                "status": status,
                                "problem": problem,
                            }
                        )
                        + "\n"
                    )


def handler(validator):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection = http.client.HTTPConnection(validator.target.hostname, validator.target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body or None, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                answer_headers = answer.getheaders()
            except (OSError, http.client.HTTPException) as e:
                # The fake broke the exchange: the client sees a 502, the run fails.
                validator.record(self.command, self.path, 502, "?", [f"exchange: the fake did not answer: {e!r}"])
                self.send_error(502, "the fake did not answer")
                return
            finally:
                connection.close()

            self.send_response_only(answer.status, answer.reason)
            for name, value in answer_headers:
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

            if split.path in PASSTHROUGH[validator.provider]:
                return
            lower = {k.lower(): v for k, v in self.headers.items()}
            answer_lower = {}
            for name, value in answer_headers:
                answer_lower[name.lower()] = value
            operation = validator.operation(self.command, split.path)
            try:
                problems = validator.check(
                    self.command, split.path, split.query, lower, body, answer.status, answer_lower, data
                )
            except Exception as e:  # noqa: BLE001 - a validator crash is a failure too
                problems = [f"validator error: {type(e).__name__}: {e}"]
            validator.record(self.command, self.path, answer.status, operation, problems)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", choices=["contabo", "digitalocean", "ionos"])
    parser.add_argument("upstream", type=Path)
    parser.add_argument("target")
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()

    validator = Validator(args.provider, args.upstream.resolve(), args.target, args.log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(validator))
    args.port_file.write_text(str(server.server_address[1]))
    print(f"validator: {args.provider} spec, http://127.0.0.1:{server.server_address[1]} -> {args.target}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
