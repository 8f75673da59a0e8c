using System.Diagnostics;
using PfPpo.Model;
using PfPpo.Sft;
using static TorchSharp.torch;

namespace PfPpo.Bench;

/// <summary>
/// SFT's loss, forward + backward, the old way (full [B, T, V] logits, cross-entropy masked to the completion) against
/// the shared <see cref="PfPpo.Training.TokenLogprobs"/> path (only completion positions projected, chunked, recomputing
/// backward), on demo-shaped batches: 16 rows of 80 prompt + 20 completion tokens.
/// </summary>
internal static class SftLossBenchmark
{
    public static void Run()
    {
        const int batch = 16, prompt = 80, completion = 20, rounds = 5;
        Console.WriteLine($"sft loss: forward + backward, batch {batch} x ({prompt} prompt + {completion} completion) tokens, fp32, {get_num_threads()} threads, fastest of {rounds}, alternating");
        Console.WriteLine($"{"vocab",7} {"full logits (s)",16} {"completion-only (s)",20} {"speed-up",9} {"|loss diff|",12}");
        foreach (int vocab in new[] { 1024, 32768 })
        {
            ModelConfig config = new()
            {
                Architectures = ["Qwen2ForCausalLM"], ModelType = "qwen2", HiddenSize = 128, NumHiddenLayers = 4, NumAttentionHeads = 4,
                NumKeyValueHeads = 2, IntermediateSize = 352, VocabSize = vocab, TieWordEmbeddings = true,
            };
            using var model = new CausalLM(config);
            model.InitializeWeights(1);
            model.train();
            var random = new Random(3);
            TokenSequence[] rows = Enumerable.Range(0, batch).Select(_ => new TokenSequence(
                Enumerable.Range(0, prompt).Select(_ => random.Next(vocab)).ToArray(),
                Enumerable.Range(0, completion).Select(_ => random.Next(vocab)).ToArray())).ToArray();
            double full = double.MaxValue, chunked = double.MaxValue, diff = 0;
            for (int round = 0; round <= rounds; round++) // round 0 warms up
            {
                (double fullSeconds, double fullLoss) = Time(() => FullLogitsLoss(model, rows));
                (double chunkedSeconds, double chunkedLoss) = Time(() => SftTrainer.Loss(model, TokenBatch.Collate(rows, 0, Padding.Right)));
                if (round > 0)
                {
                    full = Math.Min(full, fullSeconds);
                    chunked = Math.Min(chunked, chunkedSeconds);
                }
                diff = Math.Abs(fullLoss - chunkedLoss);
            }
            Console.WriteLine($"{vocab,7} {full,16:F3} {chunked,20:F3} {full / chunked,8:F2}x {diff,12:E1}");
        }
    }

    /// <summary>Times loss() and its backward inside one dispose scope, so every tensor of the step is freed after it.</summary>
    private static (double Seconds, double Loss) Time(Func<Tensor> loss)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        Tensor value = loss();
        value.backward();
        return (watch.Elapsed.TotalSeconds, value.item<float>());
    }

    /// <summary>The loss as SFT computed it before the shared pieces: every position projected onto the vocabulary.</summary>
    private static Tensor FullLogitsLoss(CausalLM model, IReadOnlyList<TokenSequence> rows)
    {
        TokenBatch batch = TokenBatch.Collate(rows, 0, Padding.Right);
        Tensor logits = model.forward(batch.InputIds, null);                                                       // [B, T, V]
        Tensor predicted = logits[.., ..^1, ..].reshape(-1, logits.shape[2]);
        Tensor targets = batch.InputIds[.., 1..].reshape(-1);
        Tensor mask = batch.CompletionMask[.., 1..].reshape(-1);
        Tensor tokenLoss = nn.functional.cross_entropy(predicted, targets, reduction: nn.Reduction.None);
        return (tokenLoss * mask).sum() / mask.sum();
    }
}
