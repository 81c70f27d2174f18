import Foundation
import XCTest
@testable import Console

final class FormatsTests: XCTestCase {
    /// `switchboard logs` prints this form; it must agree with a DateFormatter in the local zone
    /// (what it replaced) to the millisecond, rounding as it does (a value just below a whole second,
    /// a time stored to the millisecond and read back as a double).
    func testDateMillisecondsMatchesAFormatterInTheLocalZone() {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        f.timeZone = .current
        for t in [0.0, 1_700_000_000.123, 1_795_457_042.999, 1_795_457_042.9996, 951_782_400.5 /* 2000-02-29 */, -0.25] {
            let d = Date(timeIntervalSince1970: t)
            let ours = Formats.dateMilliseconds(d)
            XCTAssertEqual(ours.count, 23, ours)
            XCTAssertEqual(String(Formats.logTime(d)), String(ours.suffix(12)), "\(t)")
            XCTAssertEqual(ours, f.string(from: d), "\(t)")
        }
    }
}
