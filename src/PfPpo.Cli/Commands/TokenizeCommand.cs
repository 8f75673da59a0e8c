using System.CommandLine;
using System.Text.Json;
using PfPpo.Tokenization;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo tokenize</c>: encode text to ids (a JSON array, no special tokens added) or decode ids to text.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizerOption = new Option<string>("--tokenizer") { Description = "Path to a Hugging Face tokenizer.json (byte-level BPE).", Required = true }
            .AcceptExistingFile();
        var textOption = new Option<string>("--text") { Description = "Text to encode; with --decode, a JSON array of ids.", Required = true };
        var decodeOption = new Option<bool>("--decode") { Description = "Decode the JSON array of ids in --text and print the text." };
        var command = new Command("tokenize", "Encode text to token ids (printed as a JSON array; no special tokens added), or decode ids.")
        {
            tokenizerOption,
            textOption,
            decodeOption,
        };
        command.SetAction(parseResult => UserErrors.Run(() =>
        {
            HfTokenizer tokenizer = HfTokenizer.Load(parseResult.GetValue(tokenizerOption)!);
            string text = parseResult.GetValue(textOption)!;
            if (parseResult.GetValue(decodeOption))
            {
                int[] ids = ParseIds(text);
                int[] unknown = ids.Where(id => tokenizer.IdToToken(id) is null).Distinct().ToArray();
                if (unknown.Length > 0)
                {
                    throw new UsageException($"--text: {(unknown.Length == 1 ? "id" : "ids")} {string.Join(", ", unknown)} " +
                        $"{(unknown.Length == 1 ? "is" : "are")} not in the vocabulary of {parseResult.GetValue(tokenizerOption)} (vocab size {tokenizer.VocabSize}).");
                }
                Console.Out.WriteLine(tokenizer.Decode(ids));
            }
            else
            {
                Console.Out.WriteLine($"[{string.Join(',', tokenizer.Encode(text))}]");
            }
            return 0;
        }));
        return command;
    }

    private static int[] ParseIds(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<int[]>(json) ?? throw new UsageException("--text must be a JSON array of integer ids, not null.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"--text must be a JSON array of integer ids with --decode: {e.Message}", e);
        }
    }
}
