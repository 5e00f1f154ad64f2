import ServiceLifecycle

/// The loop of every periodic service: `pass` now (when `immediately`), then after each
/// `interval` on `clock`, until a graceful shutdown — which ends a wait at once (a shutdown does
/// not cancel sleeps by itself) and never starts a pass.
package func runPeriodically<C: Clock>(every interval: Duration, on clock: C, immediately: Bool,
                                       _ pass: () async -> Void) async where C.Duration == Duration {
    if immediately, !Task.isShuttingDownGracefully { await pass() }
    while !Task.isShuttingDownGracefully {
        do {
            try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        } catch {
            return
        }
        if Task.isShuttingDownGracefully { return }
        await pass()
    }
}
