import Glibc
import Synchronization

/// One I/O thread: polls the sockets of the sessions it owns and steps their operations.
///
/// Threading: `submit` may be called from any thread; the job runs on the loop thread, which is
/// the only thread that touches the drivers it owns (and through them, libssh2). A self-pipe wakes
/// the thread when a job arrives. `start`/`stopAndJoin` are called once each by the owning
/// `IOLoopGroup`.
final class IOLoop: @unchecked Sendable {
    let index: Int
    /// The self-pipe: `submit` writes a byte to `wakeWrite`, the loop polls `wakeFD`.
    private let wakeFD: Int32
    private let wakeWrite: Int32
    private struct Inbox {
        var jobs: [@Sendable () -> Void] = []
        var stopping = false
    }
    private let inbox = Mutex(Inbox())
    /// Written by `start` before the thread exists, read by `stopAndJoin` on the same caller.
    private var thread: pthread_t = 0

    // Loop thread only.
    private var drivers: [SessionDriver] = []

    init(index: Int) throws {
        self.index = index
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SSHError.protocolError(host: "localhost", port: 0, message: "pipe: \(LibSSH2.strerror(errno))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        wakeFD = fds[0]
        wakeWrite = fds[1]
    }

    func start() {
        let retained = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<IOLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, retained)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Runs `job` on the loop thread. False (and the job dropped) once the loop is stopping.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = inbox.withLock { box -> Bool in
            guard !box.stopping else { return false }
            box.jobs.append(job)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    /// Fails every operation, frees every session, then joins the thread.
    func stopAndJoin() {
        inbox.withLock { $0.stopping = true }
        wake()
        // Called from this loop's own thread (the transport's last reference dropped inside a
        // job): the thread cannot join itself; it stops after the current job, and leaves its
        // pipe open rather than risk polling a closed descriptor.
        guard pthread_equal(thread, pthread_self()) == 0 else { return }
        pthread_join(thread, nil)
        close(wakeFD)
        close(wakeWrite)
    }

    private func wake() {
        // A full pipe already means "wake up"; EAGAIN is fine.
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
    }

    // MARK: loop thread

    func register(_ driver: SessionDriver) {
        if !drivers.contains(where: { $0 === driver }) { drivers.append(driver) }
    }

    func unregister(_ driver: SessionDriver) {
        drivers.removeAll { $0 === driver }
    }

    private func run() {
        var descriptors: [pollfd] = []
        var owners: [SessionDriver?] = []
        while true {
            let (jobs, stopping) = inbox.withLock { box -> ([@Sendable () -> Void], Bool) in
                defer { box.jobs.removeAll() }
                return (box.jobs, box.stopping)
            }
            for job in jobs { job() }
            if stopping {
                for driver in drivers { driver.terminate(nil) }
                drivers.removeAll()
                return
            }

            var now = Monotonic.now()
            for driver in drivers where driver.needsService { driver.service(now: now) }

            descriptors.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
            owners.append(nil)
            var wakeAt = UInt64.max
            var immediate = false
            for driver in drivers {
                if driver.needsService { immediate = true }
                driver.addPollDescriptors(&descriptors, &owners)
                wakeAt = min(wakeAt, driver.nextWakeup)
            }
            let timeout: Int32
            if immediate {
                timeout = 0
            } else if wakeAt == .max {
                timeout = -1
            } else {
                now = Monotonic.now()
                timeout = wakeAt <= now ? 0 : Int32(clamping: (wakeAt - now + 999_999) / 1_000_000)
            }
            let count = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if count < 0 && errno != EINTR {
                // Only EFAULT/EINVAL/ENOMEM are possible: nothing sensible to retry, but do not spin.
                usleep(1000)
            }
            if descriptors[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while read(wakeFD, &drain, drain.count) > 0 {}
            }
            now = Monotonic.now()
            var ready: [SessionDriver] = []
            if count > 0 {
                for i in 1..<descriptors.count where descriptors[i].revents != 0 {
                    if let owner = owners[i], !ready.contains(where: { $0 === owner }) { ready.append(owner) }
                }
            }
            for driver in drivers where driver.nextWakeup <= now && !ready.contains(where: { $0 === driver }) {
                ready.append(driver)
            }
            for driver in ready { driver.service(now: now) }
        }
    }
}

/// The fixed set of loop threads of a transport; sessions are spread over them round-robin.
final class IOLoopGroup: Sendable {
    let loops: [IOLoop]
    private let next = Atomic<Int>(0)

    init(threads: Int) throws {
        loops = try (0..<max(1, threads)).map { try IOLoop(index: $0) }
        for loop in loops { loop.start() }
    }

    func pick() -> IOLoop {
        let n = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: n) % UInt(loops.count))]
    }

    func stopAndJoin() {
        for loop in loops { loop.stopAndJoin() }
    }
}
