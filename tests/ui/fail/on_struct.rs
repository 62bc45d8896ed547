// #[traced_service] on a struct rather than a service impl.
#[tonic_traced::traced_service]
struct Svc;

fn main() {}
