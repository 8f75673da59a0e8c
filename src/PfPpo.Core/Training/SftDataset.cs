using System.Text.Json;
using PfPpo.IO;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Training;

/// <summary>One supervised example: the model reads <see cref="Prompt"/> and learns to write <see cref="Completion"/>.</summary>
public sealed record SftExample(string Prompt, string Completion);

/// <summary>A tokenized example: prompt ids followed by completion ids and EOS; the loss covers positions from <see cref="PromptLength"/> on.</summary>
public sealed record SftSequence(int[] InputIds, int PromptLength);

/// <summary>
/// A right-padded batch: <c>InputIds</c> and <c>LossMask</c> are [B, T] row-major; LossMask marks completion tokens
/// (never padding). Right padding needs no attention mask: see <see cref="SftTrainer.CompletionLoss"/>.
/// </summary>
public sealed record SftBatch(long[] InputIds, float[] LossMask, int BatchSize, int Length)
{
    public int CompletionTokens => (int)LossMask.Sum();
}

/// <summary>Loads SFT data and forms padding-aware batches in a seeded, reproducible order.</summary>
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
    /// and appends EOS. Sequences longer than <paramref name="maxLength"/> are dropped and counted.
    /// </summary>
    public static (IReadOnlyList<SftSequence> Sequences, int Dropped) Tokenize(
        IEnumerable<SftExample> examples, HfTokenizer tokenizer, int eosTokenId, int maxLength)
    {
        var sequences = new List<SftSequence>();
        int dropped = 0;
        foreach (SftExample example in examples)
        {
            IReadOnlyList<int> prompt = tokenizer.Encode(example.Prompt);
            IReadOnlyList<int> completion = tokenizer.Encode(example.Completion);
            int length = prompt.Count + completion.Count + 1;
            if (length > maxLength || prompt.Count == 0)
            {
                dropped++;
                continue;
            }
            int[] ids = new int[length];
            for (int i = 0; i < prompt.Count; i++)
            {
                ids[i] = prompt[i];
            }
            for (int i = 0; i < completion.Count; i++)
            {
                ids[prompt.Count + i] = completion[i];
            }
            ids[^1] = eosTokenId;
            sequences.Add(new SftSequence(ids, prompt.Count));
        }
        return (sequences, dropped);
    }

    /// <summary>
    /// The batches of one epoch, as index lists into <paramref name="sequences"/>: a seeded shuffle, then sorting by length
    /// within windows of 16 batches (little padding, still random), then a shuffle of the batch order. Depends only on
    /// (<paramref name="seed"/>, <paramref name="epoch"/>), so a resumed run sees the same order.
    /// </summary>
    public static IReadOnlyList<int[]> EpochBatches(IReadOnlyList<SftSequence> sequences, int batchSize, long seed, int epoch)
    {
        var random = new Random(Seeds.Derive(seed, epoch));
        int[] order = Enumerable.Range(0, sequences.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        int window = batchSize * 16;
        for (int start = 0; start < order.Length; start += window)
        {
            int[] chunk = order.Skip(start).Take(window).OrderBy(i => sequences[i].InputIds.Length).ThenBy(i => i).ToArray();
            for (int b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
            }
        }
        int[][] shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>Right-pads the chosen sequences into one batch (padding is left out of the loss).</summary>
    public static SftBatch Collate(IReadOnlyList<SftSequence> sequences, IReadOnlyList<int> indices, int padTokenId)
    {
        int batch = indices.Count;
        int length = indices.Max(i => sequences[i].InputIds.Length);
        long[] ids = new long[batch * length];
        float[] loss = new float[batch * length];
        Array.Fill(ids, padTokenId);
        for (int row = 0; row < batch; row++)
        {
            SftSequence sequence = sequences[indices[row]];
            for (int t = 0; t < sequence.InputIds.Length; t++)
            {
                ids[row * length + t] = sequence.InputIds[t];
                loss[row * length + t] = t >= sequence.PromptLength ? 1f : 0f;
            }
        }
        return new SftBatch(ids, loss, batch, length);
    }
}
