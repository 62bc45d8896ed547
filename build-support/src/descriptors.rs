//! How prost represents each proto field in Rust, read from reflection descriptors.

use prost_reflect::{
    EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor, OneofDescriptor,
};
use prost_types::field_descriptor_proto::Label;

/// The Rust value type prost generates for one (non-repeated) field value.
#[derive(Clone)]
pub(crate) enum ValueKind {
    /// `int64`, `sint64`, `sfixed64` → `i64`.
    Int64,
    /// `int32`, `sint32`, `sfixed32` → `i32`; `uint32`, `fixed32` → `u32`.
    Int32OrUInt32,
    /// `uint64`, `fixed64` → `u64`.
    UInt64,
    /// `float` → `f32`.
    Float32,
    /// `double` → `f64`.
    Float64,
    Bool,
    String,
    /// `Vec<u8>` or `bytes::Bytes`.
    Bytes,
    /// Stored as `i32`.
    Enum(EnumDescriptor),
    /// `T` in `Option<T>` or `Option<Box<T>>`.
    Message(MessageDescriptor),
}

impl ValueKind {
    /// The proto type name, for error messages.
    pub(crate) fn proto_name(&self) -> String {
        match self {
            ValueKind::Int64 | ValueKind::Int32OrUInt32 | ValueKind::UInt64 => "an integer".into(),
            ValueKind::Float32 | ValueKind::Float64 => "a floating-point number".into(),
            ValueKind::Bool => "a bool".into(),
            ValueKind::String => "a string".into(),
            ValueKind::Bytes => "bytes".into(),
            ValueKind::Enum(e) => format!("the enum `{}`", e.full_name()),
            ValueKind::Message(m) => format!("the message `{}`", m.full_name()),
        }
    }
}

/// A field's shape: one value, or a repeated/map collection (recorded as its count).
pub(crate) enum Shape {
    Single(ValueKind),
    Collection,
}

pub(crate) fn shape(field: &FieldDescriptor) -> Shape {
    if field.is_list() || field.is_map() {
        return Shape::Collection;
    }
    Shape::Single(match field.kind() {
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => ValueKind::Int64,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => {
            ValueKind::Int32OrUInt32
        }
        Kind::Uint64 | Kind::Fixed64 => ValueKind::UInt64,
        Kind::Float => ValueKind::Float32,
        Kind::Double => ValueKind::Float64,
        Kind::Bool => ValueKind::Bool,
        Kind::String => ValueKind::String,
        Kind::Bytes => ValueKind::Bytes,
        Kind::Enum(e) => ValueKind::Enum(e),
        Kind::Message(m) => ValueKind::Message(m),
    })
}

/// An enum's numbers and proto names; with `allow_alias` several names share a number, and the
/// first one names it.
pub(crate) fn enum_values(enum_type: &EnumDescriptor) -> Vec<(i32, String)> {
    let mut values: Vec<(i32, String)> = Vec::new();
    for value in enum_type.values() {
        if !values.iter().any(|(number, _)| *number == value.number()) {
            values.push((value.number(), value.name().to_owned()));
        }
    }
    values
}

/// How the Rust struct holds a field.
pub(crate) enum Holder {
    /// `self.field: T` (also repeated and map fields).
    Plain,
    /// `self.field: Option<T>`.
    Optional,
    /// A variant of `self.oneof: Option<Enum>`.
    Oneof(OneofDescriptor),
}

/// prost's rule: proto3 `optional`, proto2 optional scalars and all singular messages are `Option`.
pub(crate) fn holder(field: &FieldDescriptor) -> Holder {
    if let Some(oneof) = field.containing_oneof() {
        return if oneof.is_synthetic() {
            Holder::Optional
        } else {
            Holder::Oneof(oneof)
        };
    }
    if field.is_list() || field.is_map() {
        return Holder::Plain;
    }
    let proto = field.field_descriptor_proto();
    let proto2 = matches!(
        field
            .parent_file()
            .file_descriptor_proto()
            .syntax
            .as_deref(),
        None | Some("proto2")
    );
    let optional =
        proto.label() == Label::Optional && (matches!(field.kind(), Kind::Message(_)) || proto2);
    if optional {
        Holder::Optional
    } else {
        Holder::Plain
    }
}

/// Every message of a file, nested ones included, without the synthetic map-entry messages.
pub(crate) fn all_messages(file: &FileDescriptor) -> Vec<MessageDescriptor> {
    let mut found = Vec::new();
    let mut pending: Vec<MessageDescriptor> = file.messages().collect();
    pending.reverse();
    while let Some(message) = pending.pop() {
        if message.is_map_entry() {
            continue;
        }
        let mut children: Vec<MessageDescriptor> = message.child_messages().collect();
        children.reverse();
        pending.extend(children);
        found.push(message);
    }
    found
}

/// Proto packages and types whose Rust code lives elsewhere (`extern_path`, well-known types).
pub(crate) struct ExternPaths {
    prefixes: Vec<String>,
}

impl ExternPaths {
    pub(crate) fn new(extern_proto_paths: &[String], compile_well_known_types: bool) -> Self {
        let mut prefixes: Vec<String> = extern_proto_paths
            .iter()
            .map(|path| path.trim_start_matches('.').to_owned())
            .collect();
        if !compile_well_known_types {
            prefixes.push("google.protobuf".to_owned());
        }
        ExternPaths { prefixes }
    }

    /// Whether prost generates no code for this message in the current crate.
    pub(crate) fn contains(&self, message: &MessageDescriptor) -> bool {
        let name = message.full_name();
        self.prefixes.iter().any(|prefix| {
            prefix.is_empty()
                || name == prefix
                || (name.starts_with(prefix.as_str()) && name[prefix.len()..].starts_with('.'))
        })
    }
}
