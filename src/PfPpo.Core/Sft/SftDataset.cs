using System.Text.Json;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;

namespace PfPpo.Sft;

/// <summary>One supervised example: the model reads <see cref="Prompt"/> and learns to write <see cref="Completion"/>.</summary>
public sealed record SftExample(string Prompt, string Completion);

/// <summary>Loads and tokenizes SFT data (batching is <see cref="Training.EpochBatches"/>).</summary>
public static class SftDataset
{
    /// <summary>
    /// Reads a jsonl file of <c>{"prompt", "completion"}</c> lines or HumanEval-style problems
    /// (<c>prompt</c> + <c>canonical_solution</c>). Errors name the file and line.
    /// </summary>
    public static IReadOnlyList<SftExample> Load(string path)
    {
        var examples = new List<SftExample>();
        foreach ((string where, JsonElement root) in JsonLines.Read(path))
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException($"{where}: expected a JSON object.");
            }
            string prompt = RequiredString(root, "prompt", where);
            string completion = root.TryGetProperty("completion", out _)
                ? RequiredString(root, "completion", where)
                : root.TryGetProperty("canonical_solution", out _)
                    ? RequiredString(root, "canonical_solution", where)
                    : throw new DataFormatException($"{where}: needs a \"completion\" or a \"canonical_solution\" field.");
            examples.Add(new SftExample(prompt, completion));
        }
        if (examples.Count == 0)
        {
            throw new DataFormatException($"{path}: no examples.");
        }
        return examples;
    }

    private static string RequiredString(JsonElement root, string field, string where) =>
        root.TryGetProperty(field, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new DataFormatException($"{where}: field \"{field}\" must be a string.");

    /// <summary>
    /// Tokenizes prompt and completion separately (generation also encodes the prompt alone, so the boundary matches)
    /// and appends EOS to the completion. Sequences longer than <paramref name="maxLength"/> are dropped and counted.
    /// </summary>
    public static (IReadOnlyList<TokenSequence> Sequences, int Dropped) Tokenize(
        IEnumerable<SftExample> examples, HfTokenizer tokenizer, int eosTokenId, int maxLength)
    {
        var sequences = new List<TokenSequence>();
        int dropped = 0;
        foreach (SftExample example in examples)
        {
            IReadOnlyList<int> prompt = tokenizer.Encode(example.Prompt);
            int[] completion = [.. tokenizer.Encode(example.Completion), eosTokenId];
            if (prompt.Count + completion.Length > maxLength || prompt.Count == 0)
            {
                dropped++;
                continue;
            }
            sequences.Add(new TokenSequence(prompt.ToArray(), completion));
        }
        return (sequences, dropped);
    }
}
