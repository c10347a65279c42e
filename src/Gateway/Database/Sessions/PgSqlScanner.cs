using System.Text;

namespace Gateway.Database.Sessions;

public enum SqlEffectKind
{
    /// <summary>A session-level SET: <see cref="SqlEffect.Name"/> is the setting, <see cref="SqlEffect.Statement"/> the statement to repeat.</summary>
    Set,
    Reset,
    ResetAll,

    /// <summary>DISCARD ALL: settings, prepared statements, temporary tables, cursors, LISTEN, advisory locks, role.</summary>
    DiscardAll,
    DiscardTemp,

    /// <summary>SQL-level PREPARE: <see cref="SqlEffect.Statement"/> is repeated on a new server.</summary>
    Prepare,
    Deallocate,
    DeallocateAll,
    Listen,
    UnlistenAll,
    TemporaryObject,
    HoldCursor,
    CloseAllCursors,

    /// <summary>SET ROLE or SET SESSION AUTHORIZATION to another role.</summary>
    SetRole,
    ResetRole,
    AdvisoryLock,
    AdvisoryUnlockAll,
}

public readonly record struct SqlEffect(SqlEffectKind Kind, string? Name = null, string? Statement = null);

/// <summary>
/// Finds, in the SQL a client sends, the statements that change what a session carries beyond one transaction:
/// settings (SET, RESET, DISCARD), SQL-level prepared statements, and the state no new server can be given (temporary
/// objects, LISTEN, WITH HOLD cursors, advisory locks, another role). A lexer, not a parser: it knows comments,
/// quoted strings and identifiers, dollar quoting and statement boundaries, and looks at each statement's first
/// words, so that a keyword inside a string or a comment never counts. Works on the UTF-8 bytes, allocating only for
/// what it reports.
/// </summary>
public static class PgSqlScanner
{
    private static readonly string[] AdvisoryLockFunctions = ["pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared"];

    public static void Scan(ReadOnlySpan<byte> sql, List<SqlEffect> effects)
    {
        var lexer = new Lexer(sql);
        Span<Token> head = stackalloc Token[HeadWords];
        while (!lexer.AtEnd)
        {
            ScanStatement(ref lexer, sql, head, effects);
        }
    }

    private const int HeadWords = 8;

    /// <summary>Reads one statement up to its ';' (or the end): its first tokens decide what it is, the rest is searched for advisory lock calls.</summary>
    private static void ScanStatement(ref Lexer lexer, ReadOnlySpan<byte> sql, scoped Span<Token> head, List<SqlEffect> effects)
    {
        var count = 0;
        var start = -1;
        var end = 0;
        var intoTemporary = false;
        Token previous = default;
        while (lexer.Next() is { Kind: not TokenKind.End } token)
        {
            if (token.Kind == TokenKind.Punct && sql[token.Start] == ';')
            {
                break;
            }

            if (start < 0)
            {
                start = token.Start;
            }

            end = token.Start + token.Length;
            if (count < HeadWords)
            {
                head[count++] = token;
            }

            if (token.Kind == TokenKind.Punct && sql[token.Start] == '(' && previous.Kind == TokenKind.Word)
            {
                NoteFunctionCall(sql.Slice(previous.Start, previous.Length), effects);
            }

            intoTemporary |= token.Kind == TokenKind.Word && previous.Kind == TokenKind.Word
                && Is(sql.Slice(previous.Start, previous.Length), "into")
                && (Is(sql.Slice(token.Start, token.Length), "temp") || Is(sql.Slice(token.Start, token.Length), "temporary"));
            previous = token;
        }

        if (count > 0)
        {
            Classify(sql, head[..count], sql[start..end], intoTemporary, effects);
        }
    }

    private static void NoteFunctionCall(ReadOnlySpan<byte> name, List<SqlEffect> effects)
    {
        // Schema-qualified calls (pg_catalog.pg_advisory_lock) arrive as the word before '(' too.
        foreach (var function in AdvisoryLockFunctions)
        {
            if (Is(name, function))
            {
                effects.Add(new(SqlEffectKind.AdvisoryLock));
                return;
            }
        }

        if (Is(name, "pg_advisory_unlock_all"))
        {
            effects.Add(new(SqlEffectKind.AdvisoryUnlockAll));
        }
    }

    private static void Classify(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head, ReadOnlySpan<byte> statement, bool intoTemporary, List<SqlEffect> effects)
    {
        if (WordIs(sql, head, 0, "set"))
        {
            ClassifySet(sql, head, statement, effects);
        }
        else if (WordIs(sql, head, 0, "reset"))
        {
            if (WordIs(sql, head, 1, "all"))
            {
                effects.Add(new(SqlEffectKind.ResetAll));
            }
            else if (WordIs(sql, head, 1, "role") || (WordIs(sql, head, 1, "session") && WordIs(sql, head, 2, "authorization")))
            {
                effects.Add(new(SqlEffectKind.ResetRole));
            }
            else if (SettingName(sql, head, 1) is { } name)
            {
                effects.Add(new(SqlEffectKind.Reset, name));
            }
        }
        else if (WordIs(sql, head, 0, "discard"))
        {
            if (WordIs(sql, head, 1, "all"))
            {
                effects.Add(new(SqlEffectKind.DiscardAll));
            }
            else if (WordIs(sql, head, 1, "temp") || WordIs(sql, head, 1, "temporary"))
            {
                effects.Add(new(SqlEffectKind.DiscardTemp));
            }
        }
        else if (WordIs(sql, head, 0, "deallocate"))
        {
            var at = WordIs(sql, head, 1, "prepare") ? 2 : 1;
            if (WordIs(sql, head, at, "all"))
            {
                effects.Add(new(SqlEffectKind.DeallocateAll));
            }
            else if (Name(sql, head, at) is { } name)
            {
                effects.Add(new(SqlEffectKind.Deallocate, name));
            }
        }
        else if (WordIs(sql, head, 0, "prepare") && !WordIs(sql, head, 1, "transaction") && Name(sql, head, 1) is { } prepared)
        {
            effects.Add(new(SqlEffectKind.Prepare, prepared, Encoding.UTF8.GetString(statement)));
        }
        else if (WordIs(sql, head, 0, "listen"))
        {
            effects.Add(new(SqlEffectKind.Listen));
        }
        else if (WordIs(sql, head, 0, "unlisten") && head.Length > 1 && head[1].Kind == TokenKind.Punct && sql[head[1].Start] == '*')
        {
            effects.Add(new(SqlEffectKind.UnlistenAll));
        }
        else if (WordIs(sql, head, 0, "close") && WordIs(sql, head, 1, "all"))
        {
            effects.Add(new(SqlEffectKind.CloseAllCursors));
        }
        else if (WordIs(sql, head, 0, "declare") && DeclaresHoldCursor(sql, head))
        {
            effects.Add(new(SqlEffectKind.HoldCursor));
        }
        else if (WordIs(sql, head, 0, "create") && CreatesTemporaryObject(sql, head))
        {
            effects.Add(new(SqlEffectKind.TemporaryObject));
        }
        else if ((WordIs(sql, head, 0, "select") || WordIs(sql, head, 0, "with")) && intoTemporary)
        {
            effects.Add(new(SqlEffectKind.TemporaryObject));
        }
    }

    private static void ClassifySet(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head, ReadOnlySpan<byte> statement, List<SqlEffect> effects)
    {
        if (WordIs(sql, head, 1, "local") || WordIs(sql, head, 1, "transaction") || WordIs(sql, head, 1, "constraints"))
        {
            return; // Ends with the transaction.
        }

        if (WordIs(sql, head, 1, "role"))
        {
            effects.Add(new(WordIs(sql, head, 2, "none") ? SqlEffectKind.ResetRole : SqlEffectKind.SetRole));
            return;
        }

        if (WordIs(sql, head, 1, "session") && WordIs(sql, head, 2, "authorization"))
        {
            effects.Add(new(WordIs(sql, head, 3, "default") ? SqlEffectKind.ResetRole : SqlEffectKind.SetRole));
            return;
        }

        var text = Encoding.UTF8.GetString(statement);
        if (WordIs(sql, head, 1, "session") && WordIs(sql, head, 2, "characteristics"))
        {
            effects.Add(new(SqlEffectKind.Set, "session characteristics", text));
            return;
        }

        var at = WordIs(sql, head, 1, "session") ? 2 : 1;
        if (SettingName(sql, head, at) is { } name)
        {
            effects.Add(new(SqlEffectKind.Set, name, text));
        }
    }

    /// <summary>The setting a SET or RESET names at <paramref name="at"/>: the special forms mapped to their parameter, a dotted custom name joined.</summary>
    private static string? SettingName(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head, int at)
    {
        if (WordIs(sql, head, at, "time") && WordIs(sql, head, at + 1, "zone"))
        {
            return "timezone";
        }

        if (WordIs(sql, head, at, "names"))
        {
            return "client_encoding";
        }

        if (WordIs(sql, head, at, "schema"))
        {
            return "search_path";
        }

        if (WordIs(sql, head, at, "xml") && WordIs(sql, head, at + 1, "option"))
        {
            return "xmloption";
        }

        if (Name(sql, head, at) is not { } name)
        {
            return null;
        }

        var dotted = at + 2 < head.Length && head[at + 1].Kind == TokenKind.Punct && sql[head[at + 1].Start] == '.';
        return dotted && Name(sql, head, at + 2) is { } suffix ? $"{name}.{suffix}" : name;
    }

    /// <summary>An identifier as PostgreSQL reads it: unquoted folded to lower case, quoted taken as written.</summary>
    private static string? Name(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head, int at)
    {
        if (at >= head.Length)
        {
            return null;
        }

        var token = head[at];
        var text = sql.Slice(token.Start, token.Length);
        return token.Kind switch
        {
            TokenKind.Word => Encoding.UTF8.GetString(text).ToLowerInvariant(),
            TokenKind.Quoted => Encoding.UTF8.GetString(text[1..^1]).Replace("\"\"", "\""),
            _ => null,
        };
    }

    private static bool DeclaresHoldCursor(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head)
    {
        for (var i = 1; i + 1 < head.Length; i++)
        {
            if (head[i].Kind == TokenKind.Word && Is(sql.Slice(head[i].Start, head[i].Length), "for"))
            {
                return false;
            }

            if (head[i].Kind == TokenKind.Word && Is(sql.Slice(head[i].Start, head[i].Length), "with")
                && head[i + 1].Kind == TokenKind.Word && Is(sql.Slice(head[i + 1].Start, head[i + 1].Length), "hold"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>CREATE [OR REPLACE] [GLOBAL | LOCAL] {TEMP | TEMPORARY} ..., or an object created in pg_temp.</summary>
    private static bool CreatesTemporaryObject(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head)
    {
        for (var i = 1; i < head.Length; i++)
        {
            if (head[i].Kind == TokenKind.Word)
            {
                var word = sql.Slice(head[i].Start, head[i].Length);
                if (Is(word, "temp") || Is(word, "temporary") || Is(word, "pg_temp"))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool WordIs(ReadOnlySpan<byte> sql, ReadOnlySpan<Token> head, int i, string keyword) =>
        i < head.Length && head[i].Kind == TokenKind.Word && Is(sql.Slice(head[i].Start, head[i].Length), keyword);

    /// <summary>ASCII case-insensitive comparison with a lower-case keyword.</summary>
    private static bool Is(ReadOnlySpan<byte> word, string keyword)
    {
        if (word.Length != keyword.Length)
        {
            return false;
        }

        for (var i = 0; i < word.Length; i++)
        {
            if ((word[i] | 0x20) != keyword[i] && word[i] != keyword[i])
            {
                return false;
            }
        }

        return true;
    }

    private enum TokenKind
    {
        End,
        Word,
        Quoted,
        String,
        Punct,
    }

    private readonly record struct Token(TokenKind Kind, int Start, int Length);

    private ref struct Lexer(ReadOnlySpan<byte> sql)
    {
        private readonly ReadOnlySpan<byte> _sql = sql;
        private int _at;

        public bool AtEnd
        {
            get
            {
                SkipSpaceAndComments();
                return _at >= _sql.Length;
            }
        }

        public Token Next()
        {
            SkipSpaceAndComments();
            if (_at >= _sql.Length)
            {
                return new(TokenKind.End, _at, 0);
            }

            var start = _at;
            var c = _sql[_at];
            if (c == '\'')
            {
                SkipQuoted((byte)'\'', backslashEscapes: false);
                return new(TokenKind.String, start, _at - start);
            }

            if (c == '"')
            {
                SkipQuoted((byte)'"', backslashEscapes: false);
                return new(TokenKind.Quoted, start, _at - start);
            }

            if (c == '$' && TrySkipDollarQuoted())
            {
                return new(TokenKind.String, start, _at - start);
            }

            if (IsWordStart(c))
            {
                while (_at < _sql.Length && IsWordPart(_sql[_at]))
                {
                    _at++;
                }

                // E'...': a string with backslash escapes, where \' does not end it.
                if (_at - start == 1 && (c | 0x20) == 'e' && _at < _sql.Length && _sql[_at] == '\'')
                {
                    SkipQuoted((byte)'\'', backslashEscapes: true);
                    return new(TokenKind.String, start, _at - start);
                }

                return new(TokenKind.Word, start, _at - start);
            }

            if (c is >= (byte)'0' and <= (byte)'9')
            {
                while (_at < _sql.Length && (IsWordPart(_sql[_at]) || _sql[_at] == '.'))
                {
                    _at++;
                }

                return new(TokenKind.Word, start, _at - start);
            }

            _at++;
            return new(TokenKind.Punct, start, 1);
        }

        private void SkipSpaceAndComments()
        {
            while (_at < _sql.Length)
            {
                var c = _sql[_at];
                if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v')
                {
                    _at++;
                }
                else if (c == '-' && _at + 1 < _sql.Length && _sql[_at + 1] == '-')
                {
                    var newline = _sql[_at..].IndexOf((byte)'\n');
                    _at = newline < 0 ? _sql.Length : _at + newline + 1;
                }
                else if (c == '/' && _at + 1 < _sql.Length && _sql[_at + 1] == '*')
                {
                    SkipBlockComment();
                }
                else
                {
                    return;
                }
            }
        }

        /// <summary>Block comments nest in PostgreSQL.</summary>
        private void SkipBlockComment()
        {
            var depth = 0;
            while (_at < _sql.Length)
            {
                if (_sql[_at] == '/' && _at + 1 < _sql.Length && _sql[_at + 1] == '*')
                {
                    depth++;
                    _at += 2;
                }
                else if (_sql[_at] == '*' && _at + 1 < _sql.Length && _sql[_at + 1] == '/')
                {
                    _at += 2;
                    if (--depth == 0)
                    {
                        return;
                    }
                }
                else
                {
                    _at++;
                }
            }
        }

        /// <summary>From an opening quote past its closing one; a doubled quote is part of the text.</summary>
        private void SkipQuoted(byte quote, bool backslashEscapes)
        {
            _at++;
            while (_at < _sql.Length)
            {
                var c = _sql[_at++];
                if (backslashEscapes && c == '\\')
                {
                    _at = Math.Min(_at + 1, _sql.Length);
                }
                else if (c == quote)
                {
                    if (_at < _sql.Length && _sql[_at] == quote)
                    {
                        _at++;
                    }
                    else
                    {
                        return;
                    }
                }
            }
        }

        /// <summary>$tag$ ... $tag$ (the tag may be empty); a '$' that opens no such quote ($1) is punctuation.</summary>
        private bool TrySkipDollarQuoted()
        {
            var tagEnd = _at + 1;
            while (tagEnd < _sql.Length && _sql[tagEnd] != '$')
            {
                if (!IsWordPart(_sql[tagEnd]) || (tagEnd == _at + 1 && _sql[tagEnd] is >= (byte)'0' and <= (byte)'9'))
                {
                    return false;
                }

                tagEnd++;
            }

            if (tagEnd >= _sql.Length)
            {
                return false;
            }

            var tag = _sql[_at..(tagEnd + 1)];
            var close = _sql[(tagEnd + 1)..].IndexOf(tag);
            _at = close < 0 ? _sql.Length : tagEnd + 1 + close + tag.Length;
            return true;
        }

        private static bool IsWordStart(byte c) => c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'_' or >= 0x80;

        private static bool IsWordPart(byte c) => IsWordStart(c) || c is (>= (byte)'0' and <= (byte)'9') or (byte)'$';
    }
}
