//! The attribute keys of the OpenTelemetry semantic conventions that tonic-traced records,
//! declared once: RPC (old and stable names), network, server, error and exception.

use opentelemetry::Key;

/// Old and stable: the RPC method (short in the old conventions, fully qualified in the stable).
pub(crate) const RPC_METHOD: Key = Key::from_static_str("rpc.method");
/// Old: the RPC system, `grpc`.
pub(crate) const RPC_SYSTEM: Key = Key::from_static_str("rpc.system");
/// Old: the full proto name of the service.
pub(crate) const RPC_SERVICE: Key = Key::from_static_str("rpc.service");
/// Old: the numeric gRPC status code.
pub(crate) const RPC_GRPC_STATUS_CODE: Key = Key::from_static_str("rpc.grpc.status_code");
/// Stable: the path's method of a call whose `rpc.method` is `_OTHER`.
pub(crate) const RPC_METHOD_ORIGINAL: Key = Key::from_static_str("rpc.method_original");
/// Stable: the RPC system, `grpc`.
pub(crate) const RPC_SYSTEM_NAME: Key = Key::from_static_str("rpc.system.name");
/// Stable: the gRPC status code's name, `NOT_FOUND`.
pub(crate) const RPC_STATUS_CODE: Key = Key::from_static_str("rpc.status_code");
/// Stable: what failed, the status code's name.
pub(crate) const ERROR_TYPE: Key = Key::from_static_str("error.type");
/// Message events and spans: `SENT` or `RECEIVED`.
pub(crate) const RPC_MESSAGE_TYPE: Key = Key::from_static_str("rpc.message.type");
/// Message events and spans: 1-based number per direction.
pub(crate) const RPC_MESSAGE_ID: Key = Key::from_static_str("rpc.message.id");
/// Message events and spans: the size before compression.
pub(crate) const RPC_MESSAGE_UNCOMPRESSED_SIZE: Key =
    Key::from_static_str("rpc.message.uncompressed_size");
/// Message events and spans: the size on the wire of a compressed message.
pub(crate) const RPC_MESSAGE_COMPRESSED_SIZE: Key =
    Key::from_static_str("rpc.message.compressed_size");
/// SERVER spans: the client's address.
#[cfg_attr(not(feature = "transport"), allow(dead_code))]
pub(crate) const NETWORK_PEER_ADDRESS: Key = Key::from_static_str("network.peer.address");
/// SERVER spans: the client's port.
#[cfg_attr(not(feature = "transport"), allow(dead_code))]
pub(crate) const NETWORK_PEER_PORT: Key = Key::from_static_str("network.peer.port");
/// Both: the server's host name or address (SERVER spans: as the `:authority` names it).
pub(crate) const SERVER_ADDRESS: Key = Key::from_static_str("server.address");
/// Both: the server's port.
pub(crate) const SERVER_PORT: Key = Key::from_static_str("server.port");
/// The `exception` event: the status code's name.
pub(crate) const EXCEPTION_TYPE: Key = Key::from_static_str("exception.type");
/// The `exception` event: the status message.
pub(crate) const EXCEPTION_MESSAGE: Key = Key::from_static_str("exception.message");
