//! Every scenario of the default selection, each its own test, straight
//! from the catalog: a new scenario is a catalog entry, not a test here.
//! Needs a cluster; see README / `scripts/cluster`.

mod harness;

fn main() {
    harness::main(inplace_conformance::scenarios::catalog::default_selection())
}
