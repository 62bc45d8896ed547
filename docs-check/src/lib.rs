//! Compiles every Rust block of the README and the user guide: rustdoc runs each ```rust block
//! of a document included below as a doctest of this crate (`cargo test --doc`, which
//! scripts/test.sh runs). Blocks marked `no_run` (servers, build scripts) are compiled only.
//!
//! The protos the blocks name (`payment`, `kitchen.sink.v1`) are compiled by build.rs with
//! tonic-traced-build, so a block includes them as the docs tell users to:
//! `tonic::include_proto!("payment")`.
//!
//! The other checks of the docs (TOML and proto blocks, commands) are the tests in `tests/`,
//! reading the documents through [`markdown`].

pub mod markdown;

/// Where the commands' `cargo run` builds: a folder of its own in the target directory. A
/// package built alone unifies fewer features than the workspace's test build, so in the
/// shared folder it would replace the binaries (`target/debug/demo`) that the examples' tests
/// run; and it never waits for the lock of a build that runs these tests.
pub fn commands_target_dir() -> std::path::PathBuf {
    let test = std::env::current_exe().expect("the test knows its path");
    // <target>/debug/deps/<test>-…
    let target = test
        .ancestors()
        .nth(3)
        .expect("the test runs from <target>/<profile>/deps");
    target.join("docs-check")
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;

#[cfg(doctest)]
#[doc = include_str!("../../docs/README.md")]
pub struct Guide;

#[cfg(doctest)]
#[doc = include_str!("../../docs/annotating-protos.md")]
pub struct AnnotatingProtos;

#[cfg(doctest)]
#[doc = include_str!("../../docs/bounds-and-keys.md")]
pub struct BoundsAndKeys;

#[cfg(doctest)]
#[doc = include_str!("../../docs/build.md")]
pub struct Build;

#[cfg(doctest)]
#[doc = include_str!("../../docs/clients.md")]
pub struct Clients;

#[cfg(doctest)]
#[doc = include_str!("../../docs/filters-and-hooks.md")]
pub struct FiltersAndHooks;

#[cfg(doctest)]
#[doc = include_str!("../../docs/finding-calls.md")]
pub struct FindingCalls;

#[cfg(doctest)]
#[doc = include_str!("../../docs/metrics.md")]
pub struct Metrics;

#[cfg(doctest)]
#[doc = include_str!("../../docs/own-pipeline.md")]
pub struct OwnPipeline;

#[cfg(doctest)]
#[doc = include_str!("../../docs/sampling-and-cost.md")]
pub struct SamplingAndCost;

#[cfg(doctest)]
#[doc = include_str!("../../docs/semantic-conventions.md")]
pub struct SemanticConventions;

#[cfg(doctest)]
#[doc = include_str!("../../docs/servers.md")]
pub struct Servers;

#[cfg(doctest)]
#[doc = include_str!("../../docs/setup.md")]
pub struct Setup;
