using PfPpo.Runtime;

namespace PfPpo.Training;

/// <summary>
/// The batches of a dataset, epoch after epoch, for trainers that step over a fixed dataset (SFT, the reward model, the
/// preference methods). Per epoch: a seeded shuffle, then sorting by length within windows of 16 batches (little
/// padding, still random), then a shuffle of the batch order. A function of (seed, epoch) only, so a resumed run sees
/// exactly the batches an uninterrupted one would.
/// </summary>
public sealed class EpochBatches
{
    private readonly IReadOnlyList<int> lengths;
    private readonly int batchSize;
    private readonly long seed;
    private int epoch = -1;
    private IReadOnlyList<int[]> batches = [];

    /// <param name="lengths">Each example's length in tokens (what the padding of a batch depends on).</param>
    public EpochBatches(IReadOnlyList<int> lengths, int batchSize, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1, nameof(batchSize));
        if (lengths.Count == 0)
        {
            throw new ArgumentException("There are no examples to batch.", nameof(lengths));
        }
        this.lengths = lengths;
        this.batchSize = batchSize;
        this.seed = seed;
        PerEpoch = (lengths.Count + batchSize - 1) / batchSize;
    }

    /// <summary>Batches (optimizer steps) per epoch.</summary>
    public int PerEpoch { get; }

    /// <summary>The example indices of optimizer step <paramref name="step"/> (0-based, counting across epochs).</summary>
    public int[] ForStep(int step)
    {
        if (step / PerEpoch != epoch)
        {
            epoch = step / PerEpoch;
            batches = OfEpoch(lengths, batchSize, seed, epoch);
        }
        return batches[step % PerEpoch];
    }

    /// <summary>All batches of one epoch, as index lists.</summary>
    public static IReadOnlyList<int[]> OfEpoch(IReadOnlyList<int> lengths, int batchSize, long seed, int epoch)
    {
        var random = new Random(Seeds.Derive(seed, epoch));
        int[] order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        int window = batchSize * 16;
        for (int start = 0; start < order.Length; start += window)
        {
            int[] chunk = order.Skip(start).Take(window).OrderBy(i => lengths[i]).ThenBy(i => i).ToArray();
            for (int b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
            }
        }
        int[][] shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }
}
