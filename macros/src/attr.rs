//! Reads the options of `#[traced_service(...)]` and `#[traced(...)]`.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Attribute, Ident, LitStr, Path};

/// `messages = spans | events | off`.
#[derive(Clone, Copy)]
pub(crate) enum Messages {
    Spans,
    Events,
    Off,
}

/// Options of the whole impl.
#[derive(Default)]
pub(crate) struct ServiceOptions {
    pub(crate) messages: Option<Messages>,
    pub(crate) public_endpoint: bool,
    pub(crate) service_name: Option<LitStr>,
    pub(crate) is_error: Option<Path>,
    /// Where the runtime crate is, when it is not `::tonic_traced` (renamed or re-exported).
    pub(crate) runtime: Option<Path>,
}

/// Options of one method.
#[derive(Default)]
pub(crate) struct MethodOptions {
    pub(crate) skip: bool,
    pub(crate) messages: Option<Messages>,
}

const SERVICE_OPTIONS: &str = "messages = spans | events | off, public_endpoint, \
     service_name = \"…\", is_error = path::to::fn, crate = \"path::to::tonic_traced\"";
const METHOD_OPTIONS: &str = "skip, messages = spans | events | off";

pub(crate) fn service_options(args: TokenStream) -> syn::Result<ServiceOptions> {
    let mut options = ServiceOptions::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("messages") {
            set_once(&meta, &mut options.messages, parse_messages(&meta)?)
        } else if meta.path.is_ident("public_endpoint") {
            no_value(&meta)?;
            if options.public_endpoint {
                return Err(twice(&meta));
            }
            options.public_endpoint = true;
            Ok(())
        } else if meta.path.is_ident("service_name") {
            let name: LitStr = meta.value()?.parse()?;
            if name.value().is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    "service_name must not be empty; write the name spans should carry, \
                     e.g. service_name = \"payment.Payments\", or remove the option",
                ));
            }
            set_once(&meta, &mut options.service_name, name)
        } else if meta.path.is_ident("is_error") {
            let path: Path = meta.value()?.parse()?;
            set_once(&meta, &mut options.is_error, path)
        } else if meta.path.is_ident("crate") {
            let path: LitStr = meta.value()?.parse()?;
            let path = path.parse::<Path>().map_err(|_| {
                syn::Error::new(
                    path.span(),
                    "crate must name the tonic-traced crate as a path, e.g. \
                     crate = \"::tonic_traced\" or crate = \"my_reexports::tonic_traced\"",
                )
            })?;
            set_once(&meta, &mut options.runtime, path)
        } else {
            Err(meta.error(format!(
                "unknown #[traced_service] option; expected one of: {SERVICE_OPTIONS}"
            )))
        }
    });
    parser.parse2(args)?;
    Ok(options)
}

/// Reads and removes the `#[traced(...)]` attributes of a method.
pub(crate) fn take_method_options(attrs: &mut Vec<Attribute>) -> syn::Result<MethodOptions> {
    let mut options = MethodOptions::default();
    let mut result = Ok(());
    attrs.retain(|attr| {
        if !is_traced(attr) {
            return true;
        }
        if let Err(error) = parse_method_attr(attr, &mut options) {
            combine(&mut result, error);
        }
        false
    });
    result?;
    Ok(options)
}

/// Whether an attribute is `#[traced]` or `#[traced(...)]`, under any path ending in `traced`.
pub(crate) fn is_traced(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "traced")
}

fn parse_method_attr(attr: &Attribute, options: &mut MethodOptions) -> syn::Result<()> {
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Err(syn::Error::new_spanned(
            attr,
            format!("#[traced] needs an option: #[traced({METHOD_OPTIONS})]"),
        ));
    }
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("skip") {
            no_value(&meta)?;
            if options.skip {
                return Err(twice(&meta));
            }
            options.skip = true;
        } else if meta.path.is_ident("messages") {
            let messages = parse_messages(&meta)?;
            set_once(&meta, &mut options.messages, messages)?;
        } else {
            return Err(meta.error(format!(
                "unknown #[traced] option; expected one of: {METHOD_OPTIONS}"
            )));
        }
        if options.skip && options.messages.is_some() {
            return Err(meta.error(
                "skip conflicts with messages: a skipped method has no span; keep one of the two",
            ));
        }
        Ok(())
    })
}

fn parse_messages(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Messages> {
    const EXPECTED: &str =
        "unknown message mode; write messages = spans, messages = events or messages = off";
    let value = meta.value()?;
    if !value.peek(Ident) {
        // A string or any other token: point at it rather than at syn's "expected identifier".
        let token: proc_macro2::TokenTree = value.parse()?;
        return Err(syn::Error::new(token.span(), EXPECTED));
    }
    let mode: Ident = value.parse()?;
    match mode.to_string().as_str() {
        "spans" => Ok(Messages::Spans),
        "events" => Ok(Messages::Events),
        "off" => Ok(Messages::Off),
        _ => Err(syn::Error::new(mode.span(), EXPECTED)),
    }
}

/// Rejects `flag = …` for an option that is a bare word.
fn no_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(syn::Error::new_spanned(
            &meta.path,
            format!("{name} takes no value; write just `{name}`"),
        ));
    }
    Ok(())
}

/// The error for an option given a second time, at its second occurrence.
fn twice(meta: &syn::meta::ParseNestedMeta) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    syn::Error::new_spanned(&meta.path, format!("`{name}` is given twice; keep one"))
}

fn set_once<T>(
    meta: &syn::meta::ParseNestedMeta,
    slot: &mut Option<T>,
    value: T,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(twice(meta));
    }
    *slot = Some(value);
    Ok(())
}

/// Collects several errors into one result, so all are reported at once.
pub(crate) fn combine(result: &mut syn::Result<()>, error: syn::Error) {
    match result {
        Ok(()) => *result = Err(error),
        Err(existing) => existing.combine(error),
    }
}
