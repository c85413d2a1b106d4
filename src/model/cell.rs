//! What a qualification cell folder says of itself (`cell.json`).

use serde::{Deserialize, Serialize};

/// What a cell folder says of itself (`cell.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellSummary {
    pub name: String,
    pub kubernetes: String,
    pub openkruise: String,
    pub profile: String,
    /// The matrix's runtime and topology names (empty in a cell folder
    /// written before those axes).
    #[serde(default)]
    pub runtime: String,
    #[serde(default)]
    pub topology: String,
    pub cluster: String,
    pub started_at: String,
    pub wall_seconds: f64,
    /// Seconds spent building what was missing (0 when cached).
    pub build_seconds: f64,
    pub scenarios: Vec<String>,
    /// Set when the cell could not run: a build, the cluster, OpenKruise.
    pub infrastructure_error: Option<String>,
}

pub const CELL_FILE: &str = "cell.json";

/// An OpenKruise release as the matrix pins it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KruiseRelease {
    pub version: String,
    /// The module's `h1:` hash: the checksum database does not answer for
    /// kruise here, so the pin is ours.
    pub module_sum: String,
}
