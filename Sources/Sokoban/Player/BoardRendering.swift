// The player's screen drawn for other front ends (`laser watch`): same glyphs, colours and layout.

/// Renders a game position exactly as `laser play` draws it, with a caller-supplied message line.
public enum BoardRendering {
    /// The frame as plain lines for a `columns` × `rows` terminal (no cursor codes; colour codes
    /// only when `style.color`).
    public static func lines(
        game: Game, collectionName: String, levelNumber: Int, levelCount: Int, message: String,
        banner: String? = nil, help: String = "", style: PlayerStyle, columns: Int = 80,
        rows: Int = 24
    ) -> [String] {
        screen(game, collectionName, levelNumber, levelCount, message, banner, help, style)
            .frame(columns: columns, rows: rows)
    }

    /// The frame as terminal output (each line positioned and cleared), for a full-screen redraw.
    public static func render(
        game: Game, collectionName: String, levelNumber: Int, levelCount: Int, message: String,
        banner: String? = nil, help: String = "", style: PlayerStyle, columns: Int, rows: Int
    ) -> String {
        screen(game, collectionName, levelNumber, levelCount, message, banner, help, style)
            .render(columns: columns, rows: rows)
    }

    private static func screen(
        _ game: Game, _ name: String, _ number: Int, _ count: Int, _ message: String,
        _ banner: String?,
        _ help: String, _ style: PlayerStyle
    ) -> PlayerScreen {
        PlayerScreen(
            game: game, collectionName: name, levelNumber: number, levelCount: count, best: nil,
            message: message, banner: banner, help: help, style: style)
    }
}
