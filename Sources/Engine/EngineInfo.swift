import Store
import CLibSSH2
public enum EngineInfo { public static let libssh2Version = String(cString: libssh2_version(0)) }
