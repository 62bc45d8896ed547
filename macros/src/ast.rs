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
        return Err(syn::Error::new_spanned(
            item,
            "#[traced_service] goes on the impl of a tonic service trait, \
             e.g. `impl PaymentService for Payments { … }`",
        ));
    };
    let trait_path =
        match &item.trait_ {
            Some((None, path, _)) => path.clone(),
            Some((Some(bang), _, _)) => return Err(syn::Error::new_spanned(
                bang,
                "#[traced_service] cannot trace a negative impl; put it on `impl Service for Type`",
            )),
            None => {
                return Err(syn::Error::new_spanned(
                    &item.self_ty,
                    "#[traced_service] needs the tonic service trait: write \
                 `impl PaymentService for Payments`; an inherent impl has no RPC methods",
                ))
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
    for (name, _) in &service.stream_types {
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
        let takes_request = matches!(method.sig.inputs.first(), Some(FnArg::Receiver(_)))
            || matches!(method.sig.inputs.first(), Some(FnArg::Typed(arg)) if matches!(&*arg.pat, Pat::Ident(ident) if ident.ident == "self"));
        if !takes_request || method.sig.inputs.len() != 2 {
            return Err(syn::Error::new_spanned(
                &method.sig,
                "a traced method is a tonic handler: `async fn name(&self, request: Request<…>) \
                 -> Result<Response<…>, Status>`; mark other methods #[traced(skip)]",
            ));
        }
    }
    Ok(Handler {
        index,
        options,
        shape,
        stream,
    })
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
