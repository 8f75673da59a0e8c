using static PfPpo.Tasks.PyMath;

namespace PfPpo.Tasks;

/// <summary>One string method: upper, lower, reverse or strip.</summary>
internal sealed class StringTransformFamily() : TaskFamily("string_transform", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "word", "name"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        int variant = random.Next(4);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return {s} in upper case.",
            (1, 0) => $"Return {s} in lower case.",
            (2, 0) => $"Return {s} reversed.",
            (_, 0) => $"Return {s} without leading and trailing spaces.",
            (0, 1) => $"Convert every letter of {s} to upper case.",
            (1, 1) => $"Convert every letter of {s} to lower case.",
            (2, 1) => $"Reverse the string {s}.",
            (_, 1) => $"Remove the spaces at both ends of {s}.",
            (0, _) => $"Given a string {s}, return its uppercase version.",
            (1, _) => $"Given a string {s}, return its lowercase version.",
            (2, _) => $"Given a string {s}, return its characters in reverse order.",
            _ => $"Given a string {s}, return it stripped of surrounding spaces.",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["to_upper", "shout", "upper_case"], $"return {s}.upper()"),
            1 => (["to_lower", "whisper", "lower_case"], $"return {s}.lower()"),
            2 => (["reverse", "reversed_text", "flip"], $"return {s}[::-1]"),
            _ => (["trim", "strip_spaces", "clean"], $"return {s}.strip()"),
        };
        Func<string> draw = variant == 3
            ? () => new string(' ', random.Next(3)) + random.Sentence(1, 3) + new string(' ', random.Next(3))
            : () => random.Chars(3, 10, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "str", description, [body],
            Cases(random, () => [draw()], [""], ["a"], ["Hello World"], ["  x y  "]),
            args =>
            {
                string text = (string)args[0]!;
                return variant switch
                {
                    0 => text.ToUpperInvariant(),
                    1 => text.ToLowerInvariant(),
                    2 => new string(text.Reverse().ToArray()),
                    _ => text.Trim(' '),
                };
            });
    }
}

/// <summary>A constant prefix or suffix, or repetition.</summary>
internal sealed class AffixFamily() : TaskFamily("affix", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "word", "name"];
    private static readonly IReadOnlyList<string> Affixes = ["pre_", "_end", "ab", "xyz", "Dr_", "!", "-", "ing", "un", "0x"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        int variant = random.Next(3);
        string affix = random.Pick(Affixes);
        long k = random.Int(2, 4);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return {s} with '{affix}' added to the front.",
            (1, 0) => $"Return {s} with '{affix}' added to the end.",
            (_, 0) => $"Return {s} repeated {k} times.",
            (0, 1) => $"Prepend the string '{affix}' to {s}.",
            (1, 1) => $"Append the string '{affix}' to {s}.",
            (_, 1) => $"Concatenate {k} copies of {s}.",
            (0, _) => $"Given a string {s}, return '{affix}' followed by {s}.",
            (1, _) => $"Given a string {s}, return {s} followed by '{affix}'.",
            _ => $"Given a string {s}, return {s} written {k} times in a row.",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["add_prefix", "prepend", "with_prefix"], $"return {Lit(affix)} + {s}"),
            1 => (["add_suffix", "append", "with_suffix"], $"return {s} + {Lit(affix)}"),
            _ => (["repeat", "echo", "duplicate"], $"return {s} * {k}"),
        };
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "str", description, [body],
            Cases(random, () => [random.Pick(TaskRandom.Words)], [""], ["a b"], [affix]),
            args =>
            {
                string text = (string)args[0]!;
                return variant switch
                {
                    0 => affix + text,
                    1 => text + affix,
                    _ => string.Concat(Enumerable.Repeat(text, (int)k)),
                };
            });
    }
}

/// <summary>A boolean test on a string: startswith, endswith, contains, isdigit.</summary>
internal sealed class StringCheckFamily() : TaskFamily("string_check", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "word", "code"];
    private static readonly IReadOnlyList<string> Parts = ["ab", "x", "the", "on", "ing", "re", "a", "st"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        int variant = random.Next(4);
        string part = random.Pick(Parts);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return True if {s} starts with '{part}'.",
            (1, 0) => $"Return True if {s} ends with '{part}'.",
            (2, 0) => $"Return True if {s} contains '{part}'.",
            (_, 0) => $"Return True if {s} is not empty and consists only of digits.",
            (0, 1) => $"Check whether the string {s} begins with '{part}'.",
            (1, 1) => $"Check whether the string {s} finishes with '{part}'.",
            (2, 1) => $"Check whether the string {s} includes the substring '{part}'.",
            (_, 1) => $"Check whether {s} is a non-empty string of digits.",
            (0, _) => $"Given a string {s}, return whether '{part}' is its prefix.",
            (1, _) => $"Given a string {s}, return whether '{part}' is its suffix.",
            (2, _) => $"Given a string {s}, return whether '{part}' occurs in it.",
            _ => $"Given a string {s}, return whether every character is a digit (False for an empty string).",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["starts_with", "has_prefix", "begins_with"], $"return {s}.startswith({Lit(part)})"),
            1 => (["ends_with", "has_suffix", "finishes_with"], $"return {s}.endswith({Lit(part)})"),
            2 => (["contains", "has_part", "includes"], $"return {Lit(part)} in {s}"),
            _ => (["is_number", "all_digits", "is_numeric"], $"return {s}.isdigit()"),
        };
        Func<string> draw = variant switch
        {
            0 => () => (random.Next(2) == 0 ? part : "") + random.Chars(0, 6, "abcdefghijklmnopqrstuvwxyz"),
            1 => () => random.Chars(0, 6, "abcdefghijklmnopqrstuvwxyz") + (random.Next(2) == 0 ? part : ""),
            2 => () => random.Chars(0, 4, "abcdefghijklmnopqrstuvwxyz") + (random.Next(2) == 0 ? part : "") + random.Chars(0, 4, "abcdefghijklmnopqrstuvwxyz"),
            _ => () => random.Chars(1, 6, random.Next(2) == 0 ? "0123456789" : "0123456789abc"),
        };
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "bool", description, [body],
            Cases(random, () => [draw()], [""], [part], [part + part], ["12a"], ["007"]),
            args =>
            {
                string text = (string)args[0]!;
                return variant switch
                {
                    0 => text.StartsWith(part, StringComparison.Ordinal),
                    1 => text.EndsWith(part, StringComparison.Ordinal),
                    2 => text.Contains(part, StringComparison.Ordinal),
                    _ => text.Length > 0 && text.All(char.IsAsciiDigit),
                };
            });
    }
}

/// <summary><c>s.replace(a, b)</c> or <c>s.replace(a, '')</c>.</summary>
internal sealed class ReplaceFamily() : TaskFamily("replace", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "line", "phrase"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        bool remove = random.Next(3) == 0;
        char from = random.Pick((IReadOnlyList<char>)[' ', 'a', 'e', 'o', 't', 's']);
        char to = random.Pick((IReadOnlyList<char>)['_', '-', '*', '.', '#']);
        string fromText = from == ' ' ? "space" : $"'{from}'";
        string description = (remove, wording) switch
        {
            (false, 0) => $"Return {s} with every {fromText} replaced by '{to}'.",
            (true, 0) => $"Return {s} with every {fromText} removed.",
            (false, 1) => $"Replace each occurrence of {fromText} in {s} with '{to}'.",
            (true, 1) => $"Delete each occurrence of {fromText} from {s}.",
            (false, _) => $"Given a string {s}, change all {fromText} characters into '{to}'.",
            _ => $"Given a string {s}, drop all {fromText} characters.",
        };
        string replacement = remove ? "" : to.ToString();
        IReadOnlyList<string> names = remove ? ["remove_char", "strip_char", "delete_all"] : ["replace_char", "substitute", "swap_char"];
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "str", description,
            [$"return {s}.replace({Lit(from.ToString())}, {Lit(replacement)})"],
            Cases(random, () => [random.Sentence(1, 4)], [""], [from.ToString()], [new string(from, 3)], ["xyz"]),
            args => ((string)args[0]!).Replace(from.ToString(), replacement, StringComparison.Ordinal));
    }
}

/// <summary>Counting characters: vowels, one character, upper-case letters, spaces.</summary>
internal sealed class CountCharsFamily() : TaskFamily("count_chars", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "word", "sentence"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        int variant = random.Next(4);
        char c = random.Pick((IReadOnlyList<char>)['a', 'e', 'o', 't', 'r', 'l']);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the number of lower-case vowels (a, e, i, o, u) in {s}.",
            (1, 0) => $"Return how many times '{c}' occurs in {s}.",
            (2, 0) => $"Return the number of upper-case letters in {s}.",
            (_, 0) => $"Return the number of spaces in {s}.",
            (0, 1) => $"Count the lower-case vowels a, e, i, o and u in {s}.",
            (1, 1) => $"Count the occurrences of the character '{c}' in {s}.",
            (2, 1) => $"Count the capital letters in {s}.",
            (_, 1) => $"Count the space characters in {s}.",
            (0, _) => $"Given a string {s}, return how many of its characters are one of 'aeiou'.",
            (1, _) => $"Given a string {s}, return how many of its characters equal '{c}'.",
            (2, _) => $"Given a string {s}, return how many of its characters are upper case.",
            _ => $"Given a string {s}, return how many of its characters are ' '.",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["count_vowels", "vowel_count", "num_vowels"], $"return sum(1 for ch in {s} if ch in 'aeiou')"),
            1 => (["count_char", "char_count", "occurrences"], $"return {s}.count({Lit(c.ToString())})"),
            2 => (["count_upper", "capitals", "num_upper"], $"return sum(1 for ch in {s} if ch.isupper())"),
            _ => (["count_spaces", "space_count", "num_spaces"], $"return {s}.count(' ')"),
        };
        Func<string> draw = variant == 2
            ? () => random.Chars(0, 10, "abcdeABCDE xyz")
            : () => random.Sentence(1, 4);
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "int", description, [body],
            Cases(random, () => [draw()], [""], ["xyz"], ["AEIOU aeiou"], [c.ToString()]),
            args =>
            {
                string text = (string)args[0]!;
                return (long)(variant switch
                {
                    0 => text.Count(ch => "aeiou".Contains(ch)),
                    1 => text.Count(ch => ch == c),
                    2 => text.Count(char.IsAsciiLetterUpper),
                    _ => text.Count(ch => ch == ' '),
                });
            });
    }
}

/// <summary>Word-level operations on a sentence: word count, longest word, reversed word order, acronym.</summary>
internal sealed class WordsFamily() : TaskFamily("words", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["s", "text", "phrase", "line"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick(Args);
        int variant = random.Next(4);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the number of words in {s}; words are separated by spaces.",
            (1, 0) => $"Return the longest word in {s}; if several are equally long, return the first.",
            (2, 0) => $"Return {s} with the order of its words reversed, joined by single spaces.",
            (_, 0) => $"Return the upper-case first letters of the words in {s}, joined together.",
            (0, 1) => $"Count the space-separated words of {s}.",
            (1, 1) => $"Find the first word of maximum length in the non-empty sentence {s}.",
            (2, 1) => $"Reverse the word order of {s} (words are separated by spaces).",
            (_, 1) => $"Build the acronym of {s}: the first letter of each word, upper-cased.",
            (0, _) => $"Given a sentence {s}, return how many words it has.",
            (1, _) => $"Given a sentence {s}, return its longest word (the earliest one on a tie).",
            (2, _) => $"Given a sentence {s}, return its words from last to first, separated by one space.",
            _ => $"Given a sentence {s}, return the first character of every word, all in upper case.",
        };
        (IReadOnlyList<string> names, string returnType, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["word_count", "count_words", "num_words"], "int", $"return len({s}.split())"),
            1 => (["longest_word", "longest", "max_word"], "str", $"return max({s}.split(), key=len)"),
            2 => (["reverse_words", "flip_words", "backwards"], "str", $"return ' '.join(reversed({s}.split()))"),
            _ => (["acronym", "initials", "abbreviate"], "str", $"return ''.join(w[0] for w in {s}.split()).upper()"),
        };
        object?[][] edges = variant == 1 ? [["one"], ["ab cd"], ["  spaced   out  "]] : [[""], ["one"], ["  spaced   out  "]];
        return new FunctionSpec(random.Pick(names), [new(s, "str")], returnType, description, [body],
            Cases(random, () => [random.Sentence(2, 5)], edges),
            args =>
            {
                string[] words = ((string)args[0]!).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return variant switch
                {
                    0 => (object)(long)words.Length,
                    1 => words.Aggregate((best, w) => w.Length > best.Length ? w : best),
                    2 => string.Join(' ', words.Reverse()),
                    _ => string.Concat(words.Select(w => w[0])).ToUpperInvariant(),
                };
            });
    }
}
