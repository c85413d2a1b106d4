//! Memory vs disk emptyDir write throughput (C12).

use super::*;

/// C12 judged on the synced small writes, memory vs disk (the sharper
/// signal: tmpfs has nothing to sync); the large-file MB/s ratio, which a
/// host's write cache keeps close to 1, is shown beside it. Only a gross
/// inversion (memory below half the disk) fails; recordings made before the
/// synced writes were measured are judged on the large-file ratio.
pub(super) fn throughput(record: &ScenarioRecord) -> Option<Check> {
    let t = record.throughput.as_ref()?;
    let large = ratio(t.memory_mb_per_s(), t.disk_mb_per_s());
    let synced = ratio(t.memory_synced_writes(), t.disk_synced_writes());
    let judged = if t.disk_synced_writes_per_s.is_empty() {
        large
    } else {
        synced
    };
    let verdict = if judged >= expect::THROUGHPUT_FASTER_RATIO {
        Verdict::Pass
    } else if judged >= expect::THROUGHPUT_SANITY_RATIO {
        Verdict::Inconclusive
    } else {
        Verdict::Fail
    };
    let mounts_ok = mount_is_as_designed(MarkerLocation::MemoryEmptyDir, &t.memory_mount).is_ok()
        && mount_is_as_designed(MarkerLocation::DiskEmptyDir, &t.disk_mount).is_ok();
    let verdict = if mounts_ok { verdict } else { Verdict::Fail };
    Some(check(
        record,
        "throughput",
        "memory emptyDir write throughput vs disk emptyDir",
        &[Claim::C12],
        format!(
            "synced {}-byte writes, memory/disk >= {} (fails below {})",
            t.synced_write_bytes,
            expect::THROUGHPUT_FASTER_RATIO,
            expect::THROUGHPUT_SANITY_RATIO
        ),
        format!(
            "synced writes {:.0}/s vs {:.0}/s (ratio {synced:.1}); {} MiB files {:.1} vs {:.1} MB/s \
             (ratio {large:.2}); mounts {}/{}",
            t.memory_synced_writes(),
            t.disk_synced_writes(),
            t.file_bytes / (1024 * 1024),
            t.memory_mb_per_s(),
            t.disk_mb_per_s(),
            t.memory_mount.fstype,
            t.disk_mount.fstype
        ),
        verdict,
    ))
}

pub(super) fn ratio(memory: f64, disk: f64) -> f64 {
    if disk > 0.0 {
        memory / disk
    } else {
        f64::INFINITY
    }
}
