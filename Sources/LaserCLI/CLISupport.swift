// Small pieces every subcommand shares: one-line errors, intervention parsing, output helpers.
import ArgumentParser
import Core
import Foundation
import Laser
import Sokoban

/// An error the CLI prints as one line before exiting non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Checks, before any long work, that `path` can be written: its folder is created if missing and
/// a probe file is made and removed there. A path that is a folder is refused.
func checkWritable(_ path: String, option: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        isDirectory.boolValue
    {
        throw CLIError("\(option) \(path) is a folder, not a file")
    }
    let folder = (path as NSString).deletingLastPathComponent
    let directory = folder.isEmpty ? "." : folder
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
        !isDirectory.boolValue
    {
        throw CLIError("\(option) \(path): \(directory) is a file, not a folder")
    }
    do {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true)
    } catch {
        throw CLIError("\(option): cannot create \(directory): \(TerminalText.reason(error))")
    }
    let probe = directory + "/.laser-write-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
        throw CLIError("\(option): cannot write \(path): \(String(cString: strerror(errno)))")
    }
    close(fd)
    unlink(probe)
}

/// Reads a level collection; a board the parser refuses is reported on standard error (file,
/// level, line and reason, one line each) and left out, the rest is used.
func readCollection(_ path: String) throws -> LevelCollection {
    try FileFormat.require(.text, path: path, purpose: "a level file (XSB/SOK text)")
    let collection = try LevelCollection(path: path)
    for problem in collection.skipped {
        StandardError.write("warning: skipped \(problem)\n")
    }
    return collection
}

/// JSON text with sorted keys for stable output.
func jsonText(_ value: some Encodable, pretty: Bool = true) throws -> String {
    terminalSafeJSON(try JSONEncoding.string(value, style: pretty ? .pretty : []))
}

/// Bytes as "12.3 MB".
func formatBytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var v = Double(n)
    var i = 0
    while v >= 1000, i < units.count - 1 {
        v /= 1000
        i += 1
    }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// Left-aligned text table.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for r in rows {
        for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    return
        ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        + rows.map(line)).joined(separator: "\n")
}
