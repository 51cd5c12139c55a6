// `[json_tcp_log_<name>]`: the original's JSON-over-TCP log shipping; the section and the shipper live in @mmm/common.
export { jsonTcpLogSection } from '@mmm/common';
