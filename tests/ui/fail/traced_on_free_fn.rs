// #[traced] on a function outside any #[traced_service] impl.
#[tonic_traced::traced(skip)]
fn helper() {}

fn main() {
    helper();
}
