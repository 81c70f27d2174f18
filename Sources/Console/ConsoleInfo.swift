import Store
import CNcursesw
import CCursesShim
public enum ConsoleInfo { public static let name = "console" }
