// Writes levels and collections back out as XSB text that LevelCollection reads again.

extension Level {
    /// The level as XSB: board rows, then `Title:`, `Author:` and other notes.
    public func xsb(boxes: [Int]? = nil, player: Int? = nil) -> String {
        var lines = rows(boxes: boxes, player: player)
        if let title { lines.append("Title: \(title)") }
        if let author { lines.append("Author: \(author)") }
        for note in notes { lines.append("\(note.key): \(note.value)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension LevelCollection {
    /// The whole collection as XSB text: collection notes, then each level and a blank line.
    public func xsb() -> String {
        var text = ""
        for note in notes { text += "\(note.key): \(note.value)\n" }
        if !notes.isEmpty { text += "\n" }
        for level in levels { text += level.xsb() + "\n" }
        return text
    }
}
