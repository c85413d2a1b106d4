//! Expectation tables: pure data. What each strategy should show for each row
//! of the seed's comparison table, and which claims (C1..C13) a row evidences.
//! Derived from the seed and from openkruise-inplace notes §7 (kruise v1.9.0).

use serde::{Deserialize, Serialize};

use crate::observe::Strategy;

/// A row of the comparison table (the seed's five rows plus the volume rows
/// and restartCount, which the seed states in prose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Row {
    PodIdentity,
    ContainerRebuild,
    RootFs,
    EmptyDir,
    MemoryEmptyDir,
    Pvc,
    NetworkIdentity,
    RestartCount,
    Scheduling,
}

impl Row {
    pub const ALL: [Row; 9] = [
        Row::PodIdentity,
        Row::ContainerRebuild,
        Row::RootFs,
        Row::EmptyDir,
        Row::MemoryEmptyDir,
        Row::Pvc,
        Row::NetworkIdentity,
        Row::RestartCount,
        Row::Scheduling,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Row::PodIdentity => "pod identity",
            Row::ContainerRebuild => "container rebuild",
            Row::RootFs => "root fs",
            Row::EmptyDir => "emptyDir",
            Row::MemoryEmptyDir => "memory emptyDir",
            Row::Pvc => "PVC",
            Row::NetworkIdentity => "network identity",
            Row::RestartCount => "restartCount",
            Row::Scheduling => "scheduling",
        }
    }
}

/// An outcome vocabulary shared by expectations and observations, so that a
/// cell passes exactly when the observed outcome equals the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Identity, data or network identity survived.
    Kept,
    NotKept,
    /// New container (new containerID) inside the same pod.
    RebuiltInPod,
    /// A different pod replaced the old one.
    NewPod,
    /// Same pod, same container: nothing was rebuilt.
    NotRebuilt,
    /// restartCount grew by exactly one per update in the same pod.
    OnePerUpdate,
    /// The replacement pod starts at restartCount 0.
    ZeroInNewPod,
    Rescheduled,
    NotRescheduled,
    /// Steps disagree, or the facts fit no outcome above.
    Inconsistent,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::NotKept => "not kept",
            Outcome::RebuiltInPod => "container rebuilt in the same pod",
            Outcome::NewPod => "new pod",
            Outcome::NotRebuilt => "not rebuilt",
            Outcome::OnePerUpdate => "+1 per update",
            Outcome::ZeroInNewPod => "0 in the new pod",
            Outcome::Rescheduled => "rescheduled",
            Outcome::NotRescheduled => "no rescheduling",
            Outcome::Inconsistent => "inconsistent",
        }
    }
}

/// The seed's claims (shared/seed/CLAIMS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Claim {
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    C8,
    C9,
    C10,
    C11,
    C12,
    C13,
}

impl Claim {
    pub const ALL: [Claim; 13] = [
        Claim::C1,
        Claim::C2,
        Claim::C3,
        Claim::C4,
        Claim::C5,
        Claim::C6,
        Claim::C7,
        Claim::C8,
        Claim::C9,
        Claim::C10,
        Claim::C11,
        Claim::C12,
        Claim::C13,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Claim::C1 => "C1",
            Claim::C2 => "C2",
            Claim::C3 => "C3",
            Claim::C4 => "C4",
            Claim::C5 => "C5",
            Claim::C6 => "C6",
            Claim::C7 => "C7",
            Claim::C8 => "C8",
            Claim::C9 => "C9",
            Claim::C10 => "C10",
            Claim::C11 => "C11",
            Claim::C12 => "C12",
            Claim::C13 => "C13",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Claim::C1 => "In-place update destroys the old container and creates a new one",
            Claim::C2 => "The writable layer is removed: a rootfs file does not survive",
            Claim::C3 => "The new container is built from the new image, fresh filesystem",
            Claim::C4 => "Every in-place update increments restartCount (by 1)",
            Claim::C5 => "Volume data (emptyDir, PVC) survives the rebuilt container",
            Claim::C6 => "Pod IP and network namespace survive",
            Claim::C7 => "Container-level resources such as the cgroup are re-initialised",
            Claim::C8 => "An emptyDir keeps data for the pod's lifetime",
            Claim::C9 => "A memory (tmpfs) emptyDir also survives",
            Claim::C10 => {
                "Rolling update vs in-place: identity, rebuild, rootfs, network, scheduling"
            }
            Claim::C11 => "restartCount tracks the number of rebuilds exactly (N updates -> N)",
            Claim::C12 => "A memory emptyDir is faster for I/O-sensitive work",
            Claim::C13 => "Important state belongs on a persistent volume",
        }
    }

    /// Strategies that must all have been run for the claim to be judged at
    /// all: C10 and C13 are comparisons, an in-place run alone proves neither.
    /// Each inner slice is "any of"; the outer slice is "all of".
    pub fn required_strategies(self) -> &'static [&'static [Strategy]] {
        const IN_PLACE: &[Strategy] = &[Strategy::CloneSetInPlaceIfPossible];
        const STANDARD: &[Strategy] = &[
            Strategy::DeploymentRollingUpdate,
            Strategy::CloneSetReCreate,
        ];
        const DEPLOYMENT: &[Strategy] = &[Strategy::DeploymentRollingUpdate];
        match self {
            Claim::C10 => &[IN_PLACE, STANDARD],
            Claim::C13 => &[IN_PLACE, DEPLOYMENT],
            _ => &[],
        }
    }
}

/// One cell of the expectation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    pub row: Row,
    pub outcome: Outcome,
    /// Claims this cell is evidence for (empty: recorded for comparison only).
    pub claims: &'static [Claim],
}

const fn cell(row: Row, outcome: Outcome, claims: &'static [Claim]) -> Expectation {
    Expectation {
        row,
        outcome,
        claims,
    }
}

/// CloneSet `InPlaceIfPossible`, image-only change: the seed's subject.
pub const IN_PLACE: &[Expectation] = &[
    cell(Row::PodIdentity, Outcome::Kept, &[Claim::C10]),
    cell(
        Row::ContainerRebuild,
        Outcome::RebuiltInPod,
        &[Claim::C1, Claim::C10],
    ),
    cell(Row::RootFs, Outcome::NotKept, &[Claim::C2, Claim::C10]),
    cell(Row::EmptyDir, Outcome::Kept, &[Claim::C5, Claim::C8]),
    cell(Row::MemoryEmptyDir, Outcome::Kept, &[Claim::C5, Claim::C9]),
    cell(Row::Pvc, Outcome::Kept, &[Claim::C5, Claim::C13]),
    cell(
        Row::NetworkIdentity,
        Outcome::Kept,
        &[Claim::C6, Claim::C10],
    ),
    cell(Row::RestartCount, Outcome::OnePerUpdate, &[Claim::C4]),
    cell(Row::Scheduling, Outcome::NotRescheduled, &[Claim::C10]),
];

/// CloneSet `ReCreate`: the pod is deleted together with its PVCs
/// (cloneset_scale.go), so even the PVC marker is lost.
pub const CLONESET_RECREATE: &[Expectation] = &[
    cell(Row::PodIdentity, Outcome::NotKept, &[Claim::C10]),
    cell(Row::ContainerRebuild, Outcome::NewPod, &[Claim::C10]),
    cell(Row::RootFs, Outcome::NotKept, &[Claim::C10]),
    cell(Row::EmptyDir, Outcome::NotKept, &[]),
    cell(Row::MemoryEmptyDir, Outcome::NotKept, &[]),
    cell(Row::Pvc, Outcome::NotKept, &[]),
    cell(Row::NetworkIdentity, Outcome::NotKept, &[Claim::C10]),
    cell(Row::RestartCount, Outcome::ZeroInNewPod, &[]),
    cell(Row::Scheduling, Outcome::Rescheduled, &[Claim::C10]),
];

/// Deployment `RollingUpdate`: the standard column of the seed; the claim
/// object outlives the pod, so the PVC marker is kept (C13).
pub const DEPLOYMENT_ROLLING: &[Expectation] = &[
    cell(Row::PodIdentity, Outcome::NotKept, &[Claim::C10]),
    cell(Row::ContainerRebuild, Outcome::NewPod, &[Claim::C10]),
    cell(Row::RootFs, Outcome::NotKept, &[Claim::C10]),
    cell(Row::EmptyDir, Outcome::NotKept, &[]),
    cell(Row::MemoryEmptyDir, Outcome::NotKept, &[]),
    cell(Row::Pvc, Outcome::Kept, &[Claim::C13]),
    cell(Row::NetworkIdentity, Outcome::NotKept, &[Claim::C10]),
    cell(Row::RestartCount, Outcome::ZeroInNewPod, &[]),
    cell(Row::Scheduling, Outcome::Rescheduled, &[Claim::C10]),
];

pub fn for_strategy(strategy: Strategy) -> &'static [Expectation] {
    match strategy {
        Strategy::CloneSetInPlaceIfPossible => IN_PLACE,
        Strategy::CloneSetReCreate => CLONESET_RECREATE,
        Strategy::DeploymentRollingUpdate => DEPLOYMENT_ROLLING,
    }
}

/// The seed's own comparison table ("与标准Kubernetes的对比"), translated; rows
/// the seed states only in prose quote that prose. Shown beside the observed
/// columns so a reader sees claim and observation side by side.
pub struct SeedRow {
    pub row: Row,
    pub standard_rolling: &'static str,
    pub openkruise_in_place: &'static str,
}

pub const SEED_TABLE: &[SeedRow] = &[
    seed(Row::PodIdentity, "changes", "kept"),
    seed(
        Row::ContainerRebuild,
        "new pod",
        "container rebuilt in the pod",
    ),
    seed(Row::RootFs, "not kept", "not kept"),
    seed(Row::EmptyDir, "-", "kept (prose)"),
    seed(Row::MemoryEmptyDir, "-", "kept (prose)"),
    seed(Row::Pvc, "-", "kept (prose)"),
    seed(Row::NetworkIdentity, "changes", "kept"),
    seed(Row::RestartCount, "-", "+1 per update (prose)"),
    seed(Row::Scheduling, "needs rescheduling", "no rescheduling"),
];

const fn seed(row: Row, standard: &'static str, in_place: &'static str) -> SeedRow {
    SeedRow {
        row,
        standard_rolling: standard,
        openkruise_in_place: in_place,
    }
}

pub fn seed_row(row: Row) -> &'static SeedRow {
    SEED_TABLE
        .iter()
        .find(|s| s.row == row)
        .expect("SEED_TABLE covers every row")
}

/// C12 is judged on a ratio, not an outcome: memory/disk MB/s at or above
/// `FASTER` confirms the claim; below `SANITY` means the media look swapped
/// or broken (the only condition that fails the test; between the two the
/// claim is inconclusive rather than refuted, machines differ).
pub const THROUGHPUT_FASTER_RATIO: f64 = 1.0;
pub const THROUGHPUT_SANITY_RATIO: f64 = 0.5;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_strategy_table_covers_every_row_once() {
        for strategy in Strategy::ALL {
            let rows: Vec<Row> = for_strategy(strategy).iter().map(|e| e.row).collect();
            assert_eq!(rows, Row::ALL.to_vec(), "{strategy:?}");
        }
    }

    #[test]
    fn seed_table_covers_every_row() {
        for row in Row::ALL {
            assert_eq!(seed_row(row).row, row);
        }
    }

    #[test]
    fn in_place_and_standard_differ_exactly_where_the_seed_says() {
        // The seed: identity, rebuild, network and scheduling differ, root fs
        // is lost in both. Volumes and restartCount differ too (pod lifetime).
        let same: Vec<Row> = Row::ALL
            .into_iter()
            .filter(|row| outcome(IN_PLACE, *row) == outcome(DEPLOYMENT_ROLLING, *row))
            .collect();
        assert_eq!(same, vec![Row::RootFs, Row::Pvc]);
    }

    #[test]
    fn recreate_differs_from_deployment_only_in_pvc() {
        let differing: Vec<Row> = Row::ALL
            .into_iter()
            .filter(|row| outcome(CLONESET_RECREATE, *row) != outcome(DEPLOYMENT_ROLLING, *row))
            .collect();
        assert_eq!(differing, vec![Row::Pvc]);
    }

    #[test]
    fn claims_checked_by_rows_or_by_dedicated_checks() {
        // C3, C7, C11 and C12 have dedicated checks in `assess`; every other
        // claim must be evidenced by at least one in-place table cell.
        let by_rows: HashSet<Claim> = IN_PLACE
            .iter()
            .flat_map(|e| e.claims.iter().copied())
            .collect();
        for claim in Claim::ALL {
            let dedicated = matches!(claim, Claim::C3 | Claim::C7 | Claim::C11 | Claim::C12);
            assert!(by_rows.contains(&claim) || dedicated, "{claim:?} unchecked");
        }
    }

    #[test]
    fn only_comparison_claims_need_several_strategies() {
        for claim in Claim::ALL {
            let needs = !claim.required_strategies().is_empty();
            assert_eq!(needs, matches!(claim, Claim::C10 | Claim::C13), "{claim:?}");
        }
    }

    #[test]
    fn throughput_ratios_are_ordered() {
        const { assert!(THROUGHPUT_SANITY_RATIO < THROUGHPUT_FASTER_RATIO) };
    }

    fn outcome(table: &[Expectation], row: Row) -> Outcome {
        table.iter().find(|e| e.row == row).unwrap().outcome
    }
}
