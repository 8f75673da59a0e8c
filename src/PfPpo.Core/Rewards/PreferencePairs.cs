using System.Text.Json;
using PfPpo.IO;

namespace PfPpo.Rewards;

/// <summary>
/// One preference: two responses to the same prompt, the <see cref="Chosen"/> one better (in PfPpo: the higher actual
/// score in the sandbox). Responses are appended to the prompt, as completions are.
/// </summary>
/// <param name="Margin">Optional margin of the Bradley-Terry loss for this pair (0 when absent).</param>
public sealed record PreferencePair(string TaskId, string Prompt, string Chosen, string Rejected, double Margin = 0);

/// <summary>Reads pairs.jsonl: one <c>{"task_id", "prompt", "chosen", "rejected"[, "margin"]}</c> object per line.</summary>
public static class PreferencePairs
{
    public static IReadOnlyList<PreferencePair> Load(string path)
    {
        var pairs = new List<PreferencePair>();
        foreach ((string where, JsonElement root) in JsonLines.Read(path))
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException($"{where}: expected a JSON object with task_id, prompt, chosen and rejected.");
            }
            double margin = 0;
            if (root.TryGetProperty("margin", out JsonElement m))
            {
                if (m.ValueKind != JsonValueKind.Number || !double.IsFinite(m.GetDouble()))
                {
                    throw new DataFormatException($"{where}: field \"margin\" must be a finite number.");
                }
                margin = m.GetDouble();
            }
            var pair = new PreferencePair(Text(root, "task_id", where), Text(root, "prompt", where), Text(root, "chosen", where),
                Text(root, "rejected", where), margin);
            if (pair.Chosen == pair.Rejected)
            {
                throw new DataFormatException($"{where}: chosen and rejected are the same response; a pair needs two different ones.");
            }
            pairs.Add(pair);
        }
        if (pairs.Count == 0)
        {
            throw new DataFormatException($"{path}: no pairs.");
        }
        return pairs;
    }

    /// <summary>Writes pairs.jsonl atomically (the format <see cref="Load"/> reads).</summary>
    public static void Write(string path, IEnumerable<PreferencePair> pairs) => JsonLines.Write(path, pairs, (writer, pair) =>
    {
        writer.WriteStartObject();
        writer.WriteString("task_id", pair.TaskId);
        writer.WriteString("prompt", pair.Prompt);
        writer.WriteString("chosen", pair.Chosen);
        writer.WriteString("rejected", pair.Rejected);
        if (pair.Margin != 0)
        {
            writer.WriteNumber("margin", pair.Margin);
        }
        writer.WriteEndObject();
    });

    private static string Text(JsonElement root, string field, string where) =>
        root.TryGetProperty(field, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new DataFormatException($"{where}: field \"{field}\" must be a string.");

    /// <summary>
    /// Held-out pairs by prompt: a seeded share of the distinct prompts, every pair of a held-out prompt held out, so an
    /// accuracy on them measures unseen prompts. No pair is held out when the share rounds to none or to all prompts.
    /// </summary>
    public static (IReadOnlyList<PreferencePair> Train, IReadOnlyList<PreferencePair> HeldOut) SplitByPrompt(
        IReadOnlyList<PreferencePair> pairs, double fraction, int seed)
    {
        string[] prompts = pairs.Select(p => p.Prompt).Distinct().ToArray();
        int count = (int)Math.Round(prompts.Length * fraction);
        if (count == 0 || count >= prompts.Length)
        {
            return (pairs, []);
        }
        new Random(seed).Shuffle(prompts);
        var heldPrompts = prompts.Take(count).ToHashSet(StringComparer.Ordinal);
        return (pairs.Where(p => !heldPrompts.Contains(p.Prompt)).ToArray(), pairs.Where(p => heldPrompts.Contains(p.Prompt)).ToArray());
    }
}
