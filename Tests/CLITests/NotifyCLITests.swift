import Foundation
import Store
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A helper process (a Python receiver) that prints its port on its first line; stopped by pid.
final class Receiver {
    let process = Process()
    let port: Int
    let directory: String

    init(python: String, script: String, directory: String, arguments: [String] = []) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/../receiver-\(UUID().uuidString).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [path, directory] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(10) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw NSError(domain: "receiver", code: 1, userInfo: [NSLocalizedDescriptionKey: "receiver did not start: \(String(decoding: line, as: UTF8.self))"])
        }
        self.port = port
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }

    /// The files received so far, in order, waiting up to `timeout` for at least `count`.
    func received(atLeast count: Int, timeout: Double = 15) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            if names.count >= count || Date() > deadline {
                return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
            }
            usleep(50_000)
        }
    }

    static let http = """
        import http.server, json, os, sys
        out = sys.argv[1]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                n = len([f for f in os.listdir(out) if not f.startswith(".")])
                tmp = os.path.join(out, ".%04d" % n)
                with open(tmp, "w") as f:
                    json.dump({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": json.loads(body)}, f)
                os.rename(tmp, os.path.join(out, "%04d.json" % n))
                self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
            def log_message(self, *args): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """

    /// aiosmtpd requiring AUTH (PLAIN or LOGIN) as sbmail / the password given.
    static let smtp = """
        import os, socket, sys, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        out, password = sys.argv[1], sys.argv[2]
        class H:
            async def handle_DATA(self, server, session, envelope):
                n = len([f for f in os.listdir(out) if not f.startswith(".")])
                tmp = os.path.join(out, ".%04d" % n)
                with open(tmp, "wb") as f:
                    f.write(("X-Envelope-To: %s\\r\\nX-Envelope-From: %s\\r\\n" % (",".join(envelope.rcpt_tos), envelope.mail_from)).encode())
                    f.write(envelope.original_content)
                os.rename(tmp, os.path.join(out, "%04d.eml" % n))
                return "250 OK"
        def auth(server, session, envelope, mechanism, data):
            return AuthResult(success=data.login == b"sbmail" and data.password == password.encode())
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        c = Controller(H(), hostname="127.0.0.1", port=port, authenticator=auth, auth_required=True, auth_require_tls=False)
        c.start()
        print(port, flush=True)
        while True: time.sleep(3600)
        """

    /// aiosmtpd requiring STARTTLS before anything else (cert/key files given), then AUTH as sbmail.
    static let smtpSTARTTLS = """
        import os, socket, ssl, sys, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        out, password, cert, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        class H:
            async def handle_DATA(self, server, session, envelope):
                n = len([f for f in os.listdir(out) if not f.startswith(".")])
                tmp = os.path.join(out, ".%04d" % n)
                with open(tmp, "wb") as f:
                    f.write(("X-TLS: %s\\r\\n" % (session.ssl is not None)).encode())
                    f.write(envelope.original_content)
                os.rename(tmp, os.path.join(out, "%04d.eml" % n))
                return "250 OK"
        def auth(server, session, envelope, mechanism, data):
            return AuthResult(success=data.login == b"sbmail" and data.password == password.encode())
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        c = Controller(H(), hostname="127.0.0.1", port=port, authenticator=auth, auth_required=True,
                       tls_context=ctx, require_starttls=True)
        c.start()
        print(port, flush=True)
        while True: time.sleep(3600)
        """
}

/// Notifications through the real binary: Slack, Mattermost and webhook posts to an HTTP receiver
/// on loopback, the change diff by mail to a real SMTP server (aiosmtpd), and a dead SMTP server
/// that neither fails nor delays the run.
final class NotifyCLITests: XCTestCase {
    static var notifyPython: String { CLI.repositoryRoot + "/.venv-notify/bin/python" }

    func testNotifyTestPostsTheDocumentedShapes() throws {
        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let http = try Receiver(python: "/usr/bin/python3", script: Receiver.http, directory: cli.dir + "/http")
        defer { http.stop() }
        let base = "http://127.0.0.1:\(http.port)"
        let set = ["--set", "slack.webhook_url=\(base)/services/T000/B000/XXXX", "--set", "mattermost.url=\(base)/hooks/mm",
                   "--set", "mattermost.channel=network-ops", "--set", "webhook.url=\(base)/hook",
                   "--set", "webhook.headers.authorization=Bearer t0ken-value"]
        for channel in ["slack", "mattermost", "webhook"] {
            let r = try cli.run(["notify", "test", channel] + set)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "test notification sent to \(channel)\n")
        }
        let posts = http.received(atLeast: 3).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(posts.count, 3)
        XCTAssertEqual(posts[0]["path"] as? String, "/services/T000/B000/XXXX")
        let slack = posts[0]["body"] as! [String: Any]
        XCTAssertEqual(Array(slack.keys), ["text"], "Slack: {\"text\": …}")
        XCTAssertTrue((slack["text"] as! String).contains("test notification"))
        let mattermost = posts[1]["body"] as! [String: Any]
        XCTAssertEqual(Set(mattermost.keys), ["text", "channel"])
        XCTAssertEqual(mattermost["channel"] as? String, "network-ops")
        let hook = posts[2]["body"] as! [String: Any]
        for key in ["run", "service", "status", "user", "done", "total", "failed", "failed_devices", "log_command", "text", "changes"] {
            XCTAssertNotNil(hook[key], "webhook field \(key)")
        }
        XCTAssertEqual((posts[2]["headers"] as! [String: String])["authorization"], "Bearer t0ken-value")
        XCTAssertEqual((posts[2]["headers"] as! [String: String])["content-type"], "application/json")

        // Failures name the channel and never show the webhook URL (a secret).
        let unset = try cli.run(["notify", "test", "slack"])
        XCTAssertEqual(unset.status, 1)
        XCTAssertTrue(unset.stderr.contains("slack.webhook_url is not set"), unset.stderr)
        http.stop()
        let down = try cli.run(["notify", "test", "slack"] + set)
        XCTAssertEqual(down.status, 1)
        XCTAssertFalse(down.stderr.contains("XXXX"), down.stderr)
        XCTAssertEqual(try cli.run(["notify", "test", "pager"]).status, 2)
    }

    func testMailCarriesTheChangeDiffMaskedAndADeadServerNeitherFailsNorDelaysTheRun() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.notifyPython) else {
            throw XCTSkip("run scripts/install-deps first: it creates .venv-notify (aiosmtpd)")
        }
        var cli = try CLI()
        cli.environment.removeValue(forKey: "SSH_AUTH_SOCK")
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let password = "m4il-pa55word"
        cli.environment["SWITCHBOARD_MAIL_PASSWORD"] = password
        let smtp = try Receiver(python: Self.notifyPython, script: Receiver.smtp, directory: cli.dir + "/mail", arguments: [password])
        defer { smtp.stop() }
        let up = try cli.run(["lab", "up", "--base-port", String(labBasePort())])
        defer { _ = try? cli.run(["engine", "--stop"]); _ = try? cli.run(["lab", "down"]) }
        XCTAssertEqual(up.status, 0, up.stderr)
        _ = try cli.write("config/switchboard/settings.json", """
            {"git": {"enabled": false},
             "mail": {"server": "127.0.0.1", "port": \(smtp.port), "username": "sbmail", "sender": "switchboard@lab.example", "reply_to": "noc@lab.example"}}
            """)
        let services = try cli.write("services.json", """
            {"format": "switchboard-inventory", "version": 1, "services": [
             {"name": "backup", "kind": "backup", "devices": ["par-acc1"],
              "parameters": {"notify": {"when": "change", "channels": ["mail:ops@lab.example"]}}},
             {"name": "set loopback", "kind": "config", "devices": ["par-acc1"],
              "parameters": {"lines": ["interface Loopback77", "description key switchboard-lab"]}}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)
        XCTAssertEqual(try cli.run(["run", "backup", "--follow"]).status, 0)
        XCTAssertEqual(smtp.received(atLeast: 1).count, 1, "the first backup is a change")
        XCTAssertEqual(try cli.run(["run", "backup", "--follow"]).status, 0)
        XCTAssertEqual(try cli.run(["run", "set loopback", "--follow"]).status, 0)
        XCTAssertEqual(try cli.run(["run", "backup", "--follow"]).status, 0)
        let mails = smtp.received(atLeast: 2)
        XCTAssertEqual(mails.count, 2, "an unchanged backup sends nothing")
        let mail = mails[1]
        XCTAssertTrue(mail.contains("X-Envelope-To: ops@lab.example"), mail)
        XCTAssertTrue(mail.contains("Subject: switchboard: run 4 'backup' completed, 1 configuration changed"), mail)
        XCTAssertTrue(mail.contains("Reply-To: noc@lab.example"), mail)
        XCTAssertTrue(mail.contains("+interface Loopback77"), mail)
        XCTAssertTrue(mail.contains("switchboard logs 4"), mail)
        XCTAssertFalse(mail.contains("switchboard-lab"), "the lab credential's password is masked")
        XCTAssertTrue(mail.contains("description key ********"), mail)
        XCTAssertTrue(try cli.run(["logs", "4"]).stdout.contains("notify: sent to mail:ops@lab.example"))

        // A server that accepts and never answers: the run ends at once, the failure is logged later.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, length) } }
        listen(silent, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(silent, $0, &length) } }
        let deadPort = Int(UInt16(bigEndian: address.sin_port))
        _ = try cli.write("config/switchboard/settings.json", """
            {"git": {"enabled": false}, "notify": {"retries": 1, "timeout": 2},
             "mail": {"server": "127.0.0.1", "port": \(deadPort), "username": "sbmail"}}
            """)
        let started = Date()
        let run = try cli.run(["run", "backup", "--follow", "--param", #"notify={"when": "always", "channels": ["mail:ops@lab.example"]}"#])
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(run.status, 0, "an undeliverable notification never fails the run: \(run.stdout)")
        XCTAssertLessThan(took, 3, "nor delays its end (two 2 s attempts and a 1 s backoff come after it)")
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            log = try cli.run(["logs", "5"]).stdout
            if log.contains("not delivered") { break }
            usleep(200_000)
        }
        XCTAssertTrue(log.contains("notify: mail:ops@lab.example attempt 1 of 2 failed"), log)
        XCTAssertTrue(log.contains("notify: mail:ops@lab.example not delivered after 2 attempts"), log)
        XCTAssertFalse(log.contains(password), "the mail password never reaches the log")
        XCTAssertEqual(try cli.run(["runs", "--json"]).stdout.contains("\"completed\""), true)
    }

    /// `mail.use_tls` against a server that requires STARTTLS, with a certificate from a private CA:
    /// delivered when `mail.ca_file` names that CA, refused (certificate not trusted) without it, and
    /// a server that demands TLS refuses the plain client. The password never reaches the output.
    func testMailOverSTARTTLSVerifiesTheServersCertificate() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.notifyPython) else {
            throw XCTSkip("run scripts/install-deps first: it creates .venv-notify (aiosmtpd)")
        }
        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let password = "tl5-ma1l-pa55"
        cli.environment["SWITCHBOARD_MAIL_PASSWORD"] = password
        // A private CA and a server certificate for 127.0.0.1 signed by it.
        let pki = cli.dir + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        func openssl(_ arguments: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = arguments
            p.currentDirectoryURL = URL(fileURLWithPath: pki)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "openssl \(arguments.joined(separator: " "))")
        }
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                     "-subj", "/CN=Switchboard test CA"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: pki + "/san.ext", atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.pem", "-days", "2", "-extfile", "san.ext"])
        let smtp = try Receiver(python: Self.notifyPython, script: Receiver.smtpSTARTTLS, directory: cli.dir + "/mail",
                                arguments: [password, pki + "/server.pem", pki + "/server.key"])
        defer { smtp.stop() }
        let set = ["--set", "mail.server=127.0.0.1", "--set", "mail.port=\(smtp.port)", "--set", "mail.username=sbmail",
                   "--set", "mail.sender=switchboard@lab.example", "--set", "notify.retries=0"]

        let trusted = try cli.run(["notify", "test", "mail:ops@lab.example", "--set", "mail.use_tls=true",
                                   "--set", "mail.ca_file=\(pki)/ca.pem"] + set)
        XCTAssertEqual(trusted.status, 0, trusted.stderr)
        let mails = smtp.received(atLeast: 1)
        XCTAssertEqual(mails.count, 1)
        XCTAssertTrue(mails.first?.hasPrefix("X-TLS: True") ?? false, "delivered inside TLS: \(mails)")
        XCTAssertTrue(mails.first?.contains("test notification") ?? false, mails.first ?? "")

        let untrusted = try cli.run(["notify", "test", "mail:ops@lab.example", "--set", "mail.use_tls=true"] + set)
        XCTAssertEqual(untrusted.status, 1, "the system's trust store does not know the private CA")
        XCTAssertTrue(untrusted.stderr.lowercased().contains("certificate"), untrusted.stderr)
        XCTAssertFalse(untrusted.stderr.contains(password))

        let plain = try cli.run(["notify", "test", "mail:ops@lab.example"] + set)
        XCTAssertEqual(plain.status, 1, "the server demands STARTTLS first")
        XCTAssertFalse(plain.stderr.contains(password))

        let missing = try cli.run(["notify", "test", "mail:ops@lab.example", "--set", "mail.use_tls=true",
                                   "--set", "mail.ca_file=\(pki)/nope.pem"] + set)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("mail.ca_file \(pki)/nope.pem cannot be read"), missing.stderr)
        XCTAssertEqual(smtp.received(atLeast: 1, timeout: 0).count, 1, "nothing else was delivered")
    }

    /// A task's own `notify` (`task add --notify … --notify-when …`, or `notify` in an inventory file):
    /// validated when given, listed, exported and imported as a field, and carried by every run the
    /// task fires (a real engine fires it; the webhook receiver gets the run's notification).
    func testATasksNotifyFieldReachesTheRunsItFires() throws {
        var cli = try CLI()
        cli.environment["XDG_STATE_HOME"] = cli.dir + "/state"
        let http = try Receiver(python: "/usr/bin/python3", script: Receiver.http, directory: cli.dir + "/http")
        defer { http.stop() }
        _ = try cli.write("config/switchboard/settings.json", """
            {"webhook": {"url": "http://127.0.0.1:\(http.port)/hook"}}
            """)
        let services = try cli.write("services.json", """
            {"services": [{"name": "nothing", "kind": "wait", "parameters": {"seconds": 0}}]}
            """)
        XCTAssertEqual(try cli.run(["import", services]).status, 0)

        // Bad input names the option and creates nothing.
        let badChannel = try cli.run(["task", "add", "t0", "--service", "nothing", "--every", "1h", "--notify", "pager"])
        XCTAssertEqual(badChannel.status, 2, badChannel.stderr)
        XCTAssertTrue(badChannel.stderr.contains("notify channel 'pager' is not mail, mail:ADDRESS, slack, mattermost or webhook"), badChannel.stderr)
        let badWhen = try cli.run(["task", "add", "t0", "--service", "nothing", "--every", "1h", "--notify", "slack", "--notify-when", "sometimes"])
        XCTAssertEqual(badWhen.status, 2)
        XCTAssertTrue(badWhen.stderr.contains("notify.when 'sometimes' is not failure, success, always, change"), badWhen.stderr)
        let lonelyWhen = try cli.run(["task", "add", "t0", "--service", "nothing", "--every", "1h", "--notify-when", "always"])
        XCTAssertEqual(lonelyWhen.status, 2)
        XCTAssertTrue(lonelyWhen.stderr.contains("needs at least one --notify CHANNEL"), lonelyWhen.stderr)
        let badFile = try cli.write("tasks.json", """
            {"tasks": [
              {"name": "t1", "service": "nothing", "schedule_kind": "interval", "interval_seconds": 60,
               "notify": {"when": "failure", "channels": ["pager"]}}]}
            """)
        let refused = try cli.run(["import", badFile])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("tasks.json"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("task 't1': field notify: notify channel 'pager'"), refused.stderr)
        XCTAssertEqual(try cli.run(["task", "list", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[\n\n]")

        // The real engine fires the task; its run notifies through the task's channel.
        let engine = Process()
        engine.executableURL = URL(fileURLWithPath: CLI.binary)
        engine.arguments = ["engine"]
        engine.environment = cli.environment
        engine.standardError = FileHandle.nullDevice
        engine.standardOutput = FileHandle.nullDevice
        try engine.run()
        defer { if engine.isRunning { kill(engine.processIdentifier, SIGKILL); engine.waitUntilExit() } }
        // An interval task whose start has passed when it is added waits a whole interval: the start is
        // far enough ahead for `task add` to land first on a loaded machine (floor(now) + 1 was sometimes
        // only milliseconds ahead).
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) + 4))
        let add = try cli.run(["task", "add", "tick", "--service", "nothing", "--every", "1h", "--start", start, "--enable",
                               "--notify", "webhook", "--notify-when", "always"])
        XCTAssertEqual(add.status, 0, add.stderr)
        let posts = http.received(atLeast: 1, timeout: 20).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(posts.count, 1, "the task's run notified")
        let body = try XCTUnwrap(posts.first?["body"] as? [String: Any])
        XCTAssertEqual(body["service"] as? String, "nothing")
        XCTAssertEqual(body["status"] as? String, "completed")
        kill(engine.processIdentifier, SIGTERM)
        engine.waitUntilExit()

        // Listed, exported and imported as a field of its own.
        let listed = try JSONSerialization.jsonObject(with: Data(try cli.run(["task", "list", "--json"]).stdout.utf8)) as! [[String: Any]]
        let notify = try XCTUnwrap(listed.first?["notify"] as? [String: Any])
        XCTAssertEqual(notify["when"] as? String, "always")
        XCTAssertEqual(notify["channels"] as? [String], ["webhook"])
        XCTAssertNil((listed.first?["payload"] as? [String: Any])?["notify"], "not shown twice")
        let export = try cli.run(["export", "--format", "json", cli.dir + "/out"])
        XCTAssertEqual(export.status, 0, export.stderr)
        let exported = try String(contentsOfFile: cli.dir + "/out/switchboard.json", encoding: .utf8)
        XCTAssertTrue(exported.contains("\"notify\""), exported)
        let other = try CLI()
        XCTAssertEqual(try other.run(["import", services]).status, 0)
        let reimported = try other.run(["import", cli.dir + "/out/switchboard.json"])
        XCTAssertEqual(reimported.status, 0, reimported.stderr)
        let again = try JSONSerialization.jsonObject(with: Data(try other.run(["task", "list", "--json"]).stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual((again.first?["notify"] as? [String: Any])?["channels"] as? [String], ["webhook"])
    }
}
