//! Reads the item under `#[traced_service]` as written: the impl, its stream types, and each
//! method's shape and stream, with the options `attr.rs` reads. Reading judges nothing but the
//! options: `valid.rs` rejects handlers and streams that are wrong, and `expand.rs` writes the
//! traced impl.

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::{
    GenericArgument, Ident, ImplItem, ImplItemFn, Item, ItemImpl, PathArguments, ReturnType,
    Signature, Type,
};

use crate::attr::{is_instrument, MethodOptions, ServiceOptions};
use crate::ctxt::Ctxt;

/// The attribute's options and the item it is on.
pub(crate) struct Input {
    /// The options of `#[traced_service(...)]`, as far as they are valid.
    pub(crate) options: ServiceOptions,
    pub(crate) target: Target,
}

/// What the attribute is on.
pub(crate) enum Target {
    /// An impl, the only item it can trace.
    Impl(Service),
    /// Anything else.
    Other(Item),
}

/// A service impl to trace.
pub(crate) struct Service {
    pub(crate) item: ItemImpl,
    /// The impl's methods, handlers or not.
    pub(crate) methods: Vec<Method>,
}

/// How a handler is written.
pub(crate) enum Shape {
    /// `async fn`: before `#[async_trait]` expands, or a native async trait method.
    AsyncFn,
    /// A plain `fn` returning a future: after `#[async_trait]` (`boxed`), or `impl Future`.
    ReturnsFuture { boxed: bool },
}

/// One method of the impl.
pub(crate) struct Method {
    /// Index of the method in the impl's items.
    pub(crate) index: usize,
    /// The options of its `#[traced(...)]` attributes, as far as they are valid.
    pub(crate) options: MethodOptions,
    /// Whether it is marked `#[tracing::instrument]`.
    pub(crate) instrumented: bool,
    pub(crate) shape: Shape,
    /// The response stream, for server-streaming and bidi RPCs.
    pub(crate) stream: Option<Stream>,
    /// `T` in `Response<T>` when the method has no stream type of its own and `T` is a boxed
    /// stream, `BoxStream<…>` or `Pin<Box<dyn Stream<…>>>`: the server-streaming and bidi
    /// methods of a trait generated with `generate_default_stubs(true)`.
    pub(crate) boxed_stream: Option<Box<Type>>,
}

/// The response stream of a server-streaming or bidi handler.
pub(crate) struct Stream {
    /// The associated type that holds it: tonic names it after the method, `<Method>Stream`.
    pub(crate) name: Ident,
    /// How the return type names it.
    pub(crate) written: Written,
}

/// How a streaming handler's return type names its stream.
pub(crate) enum Written {
    /// `Self::Name` (or `<Self as Trait>::Name`).
    Associated,
    /// `T` in `Response<T>`: the type the associated type declares, an alias of it, or a
    /// mistake.
    Spelled(Box<Type>),
    /// Nowhere in sight, e.g. behind an alias of the whole return type.
    Hidden,
}

impl Input {
    /// Reads the attribute's options and the item it is on, recording misused options in `cx`.
    pub(crate) fn read(cx: &Ctxt, options: TokenStream, item: Item) -> Self {
        let options = ServiceOptions::read(cx, options);
        let target = match item {
            Item::Impl(item) => Target::Impl(Service::read(cx, item)),
            other => Target::Other(other),
        };
        Input { options, target }
    }
}

impl Service {
    fn read(cx: &Ctxt, item: ItemImpl) -> Self {
        let stream_types: Vec<&Ident> = item
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Type(ty) => Some(&ty.ident),
                _ => None,
            })
            .collect();
        let methods = item
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| match item {
                ImplItem::Fn(method) => Some(Method::read(cx, index, method, &stream_types)),
                _ => None,
            })
            .collect();
        Service { item, methods }
    }

    /// The `fn` item of one of the impl's methods.
    pub(crate) fn method_fn(&self, method: &Method) -> &ImplItemFn {
        match &self.item.items[method.index] {
            ImplItem::Fn(method) => method,
            _ => unreachable!("methods are read from fn items"),
        }
    }
}

impl Method {
    fn read(cx: &Ctxt, index: usize, method: &ImplItemFn, stream_types: &[&Ident]) -> Self {
        let shape = if method.sig.asyncness.is_some() {
            Shape::AsyncFn
        } else {
            Shape::ReturnsFuture {
                boxed: returns_pin(&method.sig.output),
            }
        };
        let stream = stream_of(&method.sig, stream_types);
        let boxed_stream = match stream {
            Some(_) => None,
            None => response_type(&method.sig.output)
                .filter(|ty| is_boxed_stream(ty))
                .map(|ty| Box::new(ty.clone())),
        };
        Method {
            index,
            options: MethodOptions::read(cx, &method.attrs),
            instrumented: method.attrs.iter().any(is_instrument),
            shape,
            stream,
            boxed_stream,
        }
    }
}

/// Whether `ty` is a boxed response stream as a trait generated with default stubs declares
/// it: tonic's `BoxStream<T>` under any path (`tonic::codegen::BoxStream<T>`), or what that
/// alias stands for, `Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>`, under any paths.
/// An alias of its own hides the stream, which is then taken for a message.
fn is_boxed_stream(ty: &Type) -> bool {
    /// The one type argument of `ty` if its last segment is `name<…>`.
    fn argument_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
        let Type::Path(path) = ty else {
            return None;
        };
        let segment = path.path.segments.last()?;
        let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
            return None;
        };
        match (segment.ident == name, arguments.args.first()) {
            (true, Some(GenericArgument::Type(ty))) if arguments.args.len() == 1 => Some(ty),
            _ => None,
        }
    }
    let ty = ungroup(ty);
    if argument_of(ty, "BoxStream").is_some() {
        return true;
    }
    let Some(Type::TraitObject(object)) = argument_of(ty, "Pin")
        .map(ungroup)
        .and_then(|pointer| argument_of(pointer, "Box"))
        .map(ungroup)
    else {
        return false;
    };
    object.bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Stream"),
        _ => false,
    })
}

/// `ty` without the parentheses or invisible groups around it.
pub(crate) fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Paren(inner) => ungroup(&inner.elem),
        Type::Group(inner) => ungroup(&inner.elem),
        ty => ty,
    }
}

/// The method's response stream: the associated type named after the method, or else one the
/// return type names as `Self::Name`.
fn stream_of(sig: &Signature, stream_types: &[&Ident]) -> Option<Stream> {
    let named = self_type_in(&sig.output, stream_types);
    let by_method = stream_types
        .iter()
        .find(|ty| holds_stream_of(ty, &sig.ident))
        .map(|ty| (*ty).clone());
    let name = by_method.or_else(|| named.clone())?;
    let written = if named.as_ref() == Some(&name) {
        Written::Associated
    } else if let Some(ty) = response_type(&sig.output) {
        Written::Spelled(Box::new(ty.clone()))
    } else {
        Written::Hidden
    };
    Some(Stream { name, written })
}

/// Whether `ty` is the name tonic gives the stream type of `method`: the method's proto name
/// and `Stream` (`watch_http_things` → `WatchHTTPThingsStream`). The proto name's casing is
/// not known here, so case and underscores are ignored.
fn holds_stream_of(ty: &Ident, method: &Ident) -> bool {
    fn squash(name: &str) -> String {
        name.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect()
    }
    let method = method.to_string();
    squash(&ty.to_string()) == squash(&format!("{}Stream", method.trim_start_matches("r#")))
}

/// `T` in the first `Response<T>` of a return type.
fn response_type(output: &ReturnType) -> Option<&Type> {
    struct FindResponse<'ast> {
        found: Option<&'ast Type>,
    }
    impl<'ast> Visit<'ast> for FindResponse<'ast> {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            if self.found.is_none() {
                self.found = response_argument(segment);
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut finder = FindResponse { found: None };
    finder.visit_return_type(output);
    finder.found
}

/// `T` of a path segment `Response<T>`.
pub(crate) fn response_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.first() {
        Some(GenericArgument::Type(ty))
            if segment.ident == "Response" && arguments.args.len() == 1 =>
        {
            Some(ty)
        }
        _ => None,
    }
}

/// The first associated stream type named as `Self::Name` in a return type, if any.
fn self_type_in(output: &ReturnType, stream_types: &[&Ident]) -> Option<Ident> {
    struct FindSelfType<'a> {
        stream_types: &'a [&'a Ident],
        found: Option<Ident>,
    }
    impl<'ast> Visit<'ast> for FindSelfType<'_> {
        fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
            if let Some(name) = self_associated(ty) {
                if self.found.is_none() && self.stream_types.contains(&name) {
                    self.found = Some(name.clone());
                }
            }
            syn::visit::visit_type_path(self, ty);
        }
    }
    let mut finder = FindSelfType {
        stream_types,
        found: None,
    };
    finder.visit_return_type(output);
    finder.found
}

/// `Name` in `Self::Name` or `<Self as Trait>::Name`.
pub(crate) fn self_associated(ty: &syn::TypePath) -> Option<&Ident> {
    let segments = &ty.path.segments;
    match &ty.qself {
        None if segments.len() == 2 && segments[0].ident == "Self" => Some(&segments[1].ident),
        Some(qself) if matches!(&*qself.ty, Type::Path(p) if p.path.is_ident("Self")) => {
            segments.last().map(|segment| &segment.ident)
        }
        _ => None,
    }
}

fn returns_pin(output: &ReturnType) -> bool {
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == "Pin"),
            _ => false,
        },
        ReturnType::Default => false,
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn boxed_streams_are_recognised_however_their_paths_are_written() {
        let streams: [Type; 6] = [
            parse_quote!(BoxStream<Note>),
            parse_quote!(tonic::codegen::BoxStream<pb::Note>),
            parse_quote!(Pin<Box<dyn Stream<Item = Result<Note, Status>> + Send>>),
            parse_quote!(
                std::pin::Pin<
                    std::boxed::Box<
                        dyn tokio_stream::Stream<Item = Result<Note, Status>> + Send + 'static,
                    >,
                >
            ),
            parse_quote!(Pin<Box<dyn Send + futures::Stream<Item = Result<Note, Status>>>>),
            parse_quote!((Pin<Box<(dyn Stream<Item = Result<Note, Status>> + Send)>>)),
        ];
        for ty in &streams {
            assert!(is_boxed_stream(ty), "{}", quote::quote!(#ty));
        }
        let messages: [Type; 5] = [
            parse_quote!(Note),
            parse_quote!(()),
            parse_quote!(Pin<Box<dyn Future<Output = Note> + Send>>),
            parse_quote!(Box<dyn Stream<Item = Result<Note, Status>> + Send>),
            parse_quote!(MyNotes),
        ];
        for ty in &messages {
            assert!(!is_boxed_stream(ty), "{}", quote::quote!(#ty));
        }
    }
}
