import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The database file and its WAL as seen from outside: sizes and modification times. Every commit
/// in WAL mode appends to the WAL and every checkpoint writes the file, so an equal stamp means
/// nothing was written in between; a refresh of 80,000 unchanged rows then costs two `stat`s
/// instead of a read, a second copy of the table in memory and a diff.
public struct StoreStamp: Sendable, Equatable {
    public var values: [Int64]

    public init(values: [Int64]) { self.values = values }

    public static func of(databasePath path: String) -> StoreStamp? {
        var values: [Int64] = []
        for file in [path, path + "-wal"] {
            var st = stat()
            if stat(file, &st) != 0 {
                if file == path { return nil }
                values += [-1, -1, -1]
                continue
            }
            values += [Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec)]
        }
        return StoreStamp(values: values)
    }
}
