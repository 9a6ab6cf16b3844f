"""Parses an Envoy bootstrap YAML strictly as envoy.config.bootstrap.v3.Bootstrap with Envoy's own
generated protos (PyPI xds-protos): unknown fields, wrong types and unresolvable typed_config
types fail. Prints "ok" or the error; exit code 0 or 1."""
import json
import sys

import yaml
from google.protobuf import json_format
from google.protobuf import wrappers_pb2  # noqa: F401  (StringValue inside Any)
import envoy.config.bootstrap.v3.bootstrap_pb2 as bootstrap_pb2
import envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2  # noqa: F401
import envoy.extensions.filters.http.wasm.v3.wasm_pb2  # noqa: F401
import envoy.extensions.filters.http.ext_authz.v3.ext_authz_pb2  # noqa: F401
import envoy.extensions.filters.http.router.v3.router_pb2  # noqa: F401
import envoy.extensions.upstreams.http.v3.http_protocol_options_pb2  # noqa: F401


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    message = bootstrap_pb2.Bootstrap()
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as err:
        print(f"not a valid Envoy bootstrap: {err}")
        return 1
    # Echo what a test wants to check on the decoded message.
    summary = {
        "clusters": [c.name for c in message.static_resources.clusters],
        "http2_clusters": [c.name for c in message.static_resources.clusters if "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" in c.typed_extension_protocol_options],
        "stats_tags": [t.tag_name for t in message.stats_config.stats_tags],
        "listeners": [l.address.socket_address.port_value for l in message.static_resources.listeners],
        "admin_port": message.admin.address.socket_address.port_value,
    }
    print("ok " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
