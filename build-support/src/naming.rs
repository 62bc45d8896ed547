//! The Rust names prost-build gives to proto items, so generated code can refer to them.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::Ident;
use prost_reflect::{EnumDescriptor, MessageDescriptor, OneofDescriptor};
use quote::format_ident;

/// prost's identifier sanitising: raw identifiers for keywords, `_` suffix where raw is impossible.
fn sanitize(ident: String) -> String {
    match ident.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
        _ => ident,
    }
}

/// A field or module name, as prost writes it (`customer_id`, `r#type`).
fn to_snake(name: &str) -> String {
    sanitize(name.to_snake_case())
}

/// A type or variant name, as prost writes it (`PaymentRequest`, `GetHttpThing`).
fn to_upper_camel(name: &str) -> String {
    sanitize(name.to_upper_camel_case())
}

/// The identifier prost gives a field or oneof (`customer_id`, `r#type`).
pub(crate) fn field_ident(name: &str) -> Ident {
    format_ident!("{}", to_snake(name))
}

/// The identifier prost gives a oneof variant (`Voucher`).
pub(crate) fn variant_ident(name: &str) -> Ident {
    format_ident!("{}", to_upper_camel(name))
}

/// `a::b::C` from identifiers as prost writes them (`r#type` becomes a raw identifier).
fn rust_path(segments: &[String]) -> syn::Path {
    let segments = segments.iter().map(|segment| format_ident!("{}", segment));
    syn::parse_quote!(#(#segments)::*)
}

/// Module path of a message's nested items, relative to its package module (`outer::inner`).
fn message_module(message: &MessageDescriptor) -> Vec<String> {
    let mut parents = Vec::new();
    let mut current = Some(message.clone());
    while let Some(message) = current {
        parents.push(to_snake(message.name()));
        current = message.parent_message();
    }
    parents.reverse();
    parents
}

/// The message's type path relative to its package module (`Outer` or `outer::Inner`).
pub(crate) fn message_path(message: &MessageDescriptor) -> syn::Path {
    let mut path = message_module(message);
    path.pop();
    path.push(to_upper_camel(message.name()));
    rust_path(&path)
}

/// An enum's type path relative to its package module (`Currency` or `outer::Kind`).
pub(crate) fn enum_path(enum_type: &EnumDescriptor) -> syn::Path {
    let mut path = enum_type
        .parent_message()
        .map(|message| message_module(&message))
        .unwrap_or_default();
    path.push(to_upper_camel(enum_type.name()));
    rust_path(&path)
}

/// The path of a oneof's enum relative to the package module (`outer::Kind`), including prost's
/// `OneOf` suffix when a nested type of the same name exists.
pub(crate) fn oneof_path(oneof: &OneofDescriptor) -> syn::Path {
    let message = oneof.parent_message();
    let mut type_name = to_upper_camel(oneof.name());
    let conflicts = message
        .child_messages()
        .map(|m| m.name().to_owned())
        .chain(message.child_enums().map(|e| e.name().to_owned()))
        .any(|name| to_upper_camel(&name) == to_upper_camel(oneof.name()));
    if conflicts {
        type_name.push_str("OneOf");
    }
    let mut path = message_module(message);
    path.push(type_name);
    rust_path(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prost() {
        assert_eq!(to_snake("customerId"), "customer_id");
        assert_eq!(to_snake("type"), "r#type");
        assert_eq!(to_snake("self"), "self_");
        assert_eq!(to_upper_camel("GetHTTPThing"), "GetHttpThing");
        assert_eq!(to_upper_camel("Self"), "Self_");
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(field_ident("type").to_string(), "r#type");
        let path = rust_path(&["r#type".to_owned(), "Kind".to_owned()]);
        assert_eq!(quote::quote!(#path).to_string(), "r#type :: Kind");
    }
}
