//! Reads a service impl: its trait, its stream types and the shape of each handler.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, Item, ItemImpl, Pat, Path, ReturnType, Type};

use crate::attr::{combine, is_traced, take_method_options, MethodOptions};

/// A tonic service impl to trace.
pub(crate) struct Service {
    pub(crate) item: ItemImpl,
    pub(crate) trait_path: Path,
    /// The impl's associated types (the response streams), by name.
    pub(crate) stream_types: HashMap<Ident, Type>,
}

/// How a handler is written.
pub(crate) enum Shape {
    /// `async fn`: before `#[async_trait]` expands, or a native async trait method.
    AsyncFn,
    /// A plain `fn` returning a future: after `#[async_trait]` (`boxed`), or `impl Future`.
    ReturnsFuture { boxed: bool },
}

/// One handler method to instrument.
pub(crate) struct Handler {
    /// Index of the method in the impl's items.
    pub(crate) index: usize,
    pub(crate) options: MethodOptions,
    pub(crate) shape: Shape,
    /// The associated stream type the method returns, for server-streaming and bidi RPCs.
    pub(crate) stream: Option<Ident>,
}

pub(crate) fn parse_service(item: TokenStream) -> syn::Result<Service> {
    let item: Item = syn::parse2(item)?;
    let Item::Impl(item) = item else {
        return Err(not_an_impl(&item));
    };
    let trait_path =
        match &item.trait_ {
            Some((None, path, _)) => path.clone(),
            Some((Some(bang), _, _)) => return Err(syn::Error::new_spanned(
                bang,
                "#[traced_service] cannot trace a negative impl; put it on `impl Service for Type`",
            )),
            None => {
                let name = match &*item.self_ty {
                    Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                return Err(syn::Error::new_spanned(
                    &item.self_ty,
                    format!(
                        "#[traced_service] needs the tonic service trait: write \
                         `impl SomeService for {}`; an inherent impl has no RPC methods",
                        name.as_deref().unwrap_or("YourType")
                    ),
                ));
            }
        };
    let stream_types = item
        .items
        .iter()
        .filter_map(|item| match item {
            ImplItem::Type(ty) => Some((ty.ident.clone(), ty.ty.clone())),
            _ => None,
        })
        .collect();
    Ok(Service {
        item,
        trait_path,
        stream_types,
    })
}

/// The error for an item that is not an impl, at its keyword and name.
fn not_an_impl(item: &Item) -> syn::Error {
    fn head(keyword: &dyn quote::ToTokens, name: &Ident) -> TokenStream {
        quote::quote!(#keyword #name)
    }
    let (head, what) = match item {
        Item::Fn(f) => (head(&f.sig.fn_token, &f.sig.ident), "a function"),
        Item::Struct(s) => (head(&s.struct_token, &s.ident), "a struct"),
        Item::Enum(e) => (head(&e.enum_token, &e.ident), "an enum"),
        Item::Trait(t) => (head(&t.trait_token, &t.ident), "the trait itself"),
        Item::Mod(m) => (head(&m.mod_token, &m.ident), "a module"),
        other => (quote::quote!(#other), "this item"),
    };
    syn::Error::new_spanned(
        head,
        format!(
            "#[traced_service] goes on the impl of a tonic service trait, \
             e.g. `impl PaymentService for Payments {{ … }}`, not on {what}"
        ),
    )
}

/// The item as written, less the `#[traced]` attributes of its methods: what is left in
/// place of a service that could not be traced.
pub(crate) fn untraced(item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<ItemImpl>(item.clone()) else {
        return item;
    };
    for item in &mut item.items {
        let attrs = match item {
            ImplItem::Fn(method) => &mut method.attrs,
            ImplItem::Type(ty) => &mut ty.attrs,
            ImplItem::Const(constant) => &mut constant.attrs,
            ImplItem::Macro(mac) => &mut mac.attrs,
            _ => continue,
        };
        attrs.retain(|attr| !is_traced(attr));
    }
    quote::quote!(#item)
}

/// Reads every method of the impl, removing the `#[traced]` attributes, and checks that each
/// attribute and stream type is where it belongs. All errors are reported together.
pub(crate) fn parse_handlers(service: &mut Service) -> syn::Result<Vec<Handler>> {
    let mut result = Ok(());
    let mut handlers = Vec::new();
    let mut streams_used = Vec::new();
    for (index, item) in service.item.items.iter_mut().enumerate() {
        match item {
            ImplItem::Fn(method) => {
                let stream = stream_of(&method.sig.output, &service.stream_types);
                if let Some(stream) = &stream {
                    streams_used.push(stream.clone());
                }
                match parse_handler(method, stream, index) {
                    Ok(handler) => handlers.push(handler),
                    Err(error) => combine(&mut result, error),
                }
            }
            ImplItem::Type(ty) => reject_traced(&ty.attrs, &mut result),
            ImplItem::Const(constant) => reject_traced(&constant.attrs, &mut result),
            ImplItem::Macro(mac) => reject_traced(&mac.attrs, &mut result),
            _ => {}
        }
    }
    // In the order written, so several errors always come out in the same order.
    let declared = service.item.items.iter().filter_map(|item| match item {
        ImplItem::Type(ty) => Some(&ty.ident),
        _ => None,
    });
    for name in declared {
        if !streams_used.contains(name) {
            combine(
                &mut result,
                syn::Error::new(
                    name.span(),
                    format!(
                        "no method returns `Self::{name}`; write the streaming method's return \
                         type as `Result<Response<Self::{name}>, Status>` so #[traced_service] \
                         can trace the stream"
                    ),
                ),
            );
        }
    }
    result?;
    Ok(handlers)
}

fn reject_traced(attrs: &[syn::Attribute], result: &mut syn::Result<()>) {
    for attr in attrs.iter().filter(|attr| is_traced(attr)) {
        combine(
            result,
            syn::Error::new_spanned(attr, "#[traced] belongs on a method of this impl, not here"),
        );
    }
}

fn parse_handler(
    method: &mut ImplItemFn,
    stream: Option<Ident>,
    index: usize,
) -> syn::Result<Handler> {
    let options = take_method_options(&mut method.attrs)?;
    let shape = if method.sig.asyncness.is_some() {
        Shape::AsyncFn
    } else {
        Shape::ReturnsFuture {
            boxed: returns_pin(&method.sig.output),
        }
    };
    if !options.skip {
        check_signature(method)?;
    }
    Ok(Handler {
        index,
        options,
        shape,
        stream,
    })
}

/// Rejects, at the offending token, a method that cannot be a tonic handler. Only shapes that
/// are certainly wrong are rejected: a type alias may stand for `Request<…>` or a future.
fn check_signature(method: &ImplItemFn) -> syn::Result<()> {
    let sig = &method.sig;
    let message = |what: &str| {
        format!(
            "{what}: a traced method is a tonic handler, `async fn {}(&self, request: \
             Request<…>) -> Result<Response<…>, Status>`; mark other methods #[traced(skip)]",
            sig.ident
        )
    };
    let parens = sig.paren_token.span.join();
    let inputs = &sig.inputs;
    let takes_self = match inputs.first() {
        Some(FnArg::Receiver(_)) => true,
        Some(FnArg::Typed(arg)) => matches!(&*arg.pat, Pat::Ident(ident) if ident.ident == "self"),
        None => false,
    };
    if !takes_self {
        return Err(match inputs.first() {
            Some(first) => syn::Error::new_spanned(first, message("expected `&self` here")),
            None => syn::Error::new(parens, message("expected `&self`")),
        });
    }
    match inputs.iter().nth(1) {
        None => {
            return Err(syn::Error::new(
                parens,
                message("expected a request parameter"),
            ))
        }
        Some(FnArg::Typed(arg)) if certainly_not(&arg.ty, NOT_REQUEST) => {
            return Err(syn::Error::new_spanned(
                &arg.ty,
                message("expected `Request<…>` here"),
            ));
        }
        Some(_) => {}
    }
    if inputs.len() > 2 {
        let extra = inputs.iter().skip(2);
        return Err(syn::Error::new_spanned(
            quote::quote!(#(#extra),*),
            message("a handler takes only `&self` and the request"),
        ));
    }
    if sig.asyncness.is_none() {
        match &sig.output {
            ReturnType::Default => {
                return Err(syn::Error::new(
                    parens,
                    message("expected a method that returns a future"),
                ))
            }
            ReturnType::Type(_, ty) if certainly_not(ty, NOT_FUTURE) => {
                return Err(syn::Error::new_spanned(
                    ty,
                    message("expected `async fn`, or a future here"),
                ));
            }
            ReturnType::Type(..) => {}
        }
    }
    Ok(())
}

const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "String", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
    "i32", "i64", "i128", "isize", "f32", "f64",
];
/// Type names that a request parameter cannot have, besides the primitives.
const NOT_REQUEST: &[&str] = &["Option", "Vec", "Response", "Status", "Streaming"];
/// Type names that a future cannot have, besides the primitives.
const NOT_FUTURE: &[&str] = &["Result", "Option", "Vec", "Response", "Status"];

/// Whether `ty` is certainly not a `Request<…>` (or a future): a reference, tuple, array and
/// the like, or a path ending in one of `names` or a primitive.
fn certainly_not(ty: &Type, names: &[&str]) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().is_some_and(|segment| {
                let name = segment.ident.to_string();
                PRIMITIVES.contains(&name.as_str()) || names.contains(&name.as_str())
            })
        }
        Type::Paren(inner) => certainly_not(&inner.elem, names),
        Type::Group(inner) => certainly_not(&inner.elem, names),
        Type::Reference(_)
        | Type::Tuple(_)
        | Type::Array(_)
        | Type::Slice(_)
        | Type::Ptr(_)
        | Type::BareFn(_)
        | Type::Never(_) => true,
        _ => false,
    }
}

/// The associated stream type named as `Self::Name` in a return type, if any.
fn stream_of(output: &ReturnType, stream_types: &HashMap<Ident, Type>) -> Option<Ident> {
    struct FindSelfType<'a> {
        stream_types: &'a HashMap<Ident, Type>,
        found: Option<Ident>,
    }
    impl<'ast> Visit<'ast> for FindSelfType<'_> {
        fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
            if let Some(name) = self_associated(ty) {
                if self.stream_types.contains_key(name) {
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
fn self_associated(ty: &syn::TypePath) -> Option<&Ident> {
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

/// Replaces `Self::Name` with the type the user wrote for `Name`, inside a method whose
/// stream type is about to be wrapped, so the body keeps the meaning it was written with.
pub(crate) struct UnwrapStreamTypes<'a> {
    pub(crate) originals: &'a HashMap<Ident, Type>,
}

impl VisitMut for UnwrapStreamTypes<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            if let Some(original) = self_associated(path).and_then(|name| self.originals.get(name))
            {
                *ty = original.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// A span for generated identifiers that cannot clash with the user's.
pub(crate) fn hidden_span() -> Span {
    Span::mixed_site()
}
