// #[traced_service] on a function rather than a service impl.
#[tonic_traced::traced_service]
fn handler() {}

fn main() {}
