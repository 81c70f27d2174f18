import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is acting, as the operating system knows it: the name of the effective user id (never
/// `$USER`, which `sudo`, cron, containers and `env -i` leave unset or wrong). Runs, stop requests,
/// sessions and the change log record it, whichever of the console and the CLI acted.
public enum OSUser {
    public static var name: String {
        let uid = geteuid()
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil, let name = pwd.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "uid \(uid)"
    }
}
