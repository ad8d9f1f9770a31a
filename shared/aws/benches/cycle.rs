//! A whole evaluation cycle over a fleet (default 1,000 SLOs; `-- 5000` for more),
//! through the real adapters and the SDK, with every AWS call answered by a canned
//! response (aws-smithy-mocks): GetMetricData returns every datapoint a query asks
//! for, the table holds steady-state definitions and states. Reports wall time, CPU
//! time, peak RSS (VmHWM) and requests by operation. `make bench-cycle` runs it for
//! 1,000 and 5,000 SLOs, each in its own process so the peak is that fleet's.
//!
//! No network: the wall time is sloguard's own work (SDK serialization included);
//! in Lambda, add the latency of the calls and scale CPU by the memory's vCPU share.

#[path = "support/canned.rs"]
mod canned;

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let f = canned::measure_cycle(n);
    println!(
        "cycle of {n} SLOs: {:.2} s wall, {:.2} s CPU, peak RSS {:.1} MB \
         (RSS before the cycle, canned table included: {:.1} MB)",
        f.wall_seconds, f.cpu_seconds, f.peak_rss_mb, f.rss_before_mb
    );
    for (op, calls) in f.requests {
        println!("  {op}: {calls}");
    }
}
