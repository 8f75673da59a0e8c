using System.CommandLine;
using System.Diagnostics;
using PfPpo.Tokenization;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo train-tokenizer</c>: train a byte-level BPE tokenizer on text files and write its tokenizer.json.</summary>
public static class TrainTokenizerCommand
{
    public static Command Create()
    {
        var inputOption = new Option<string[]>("--input") { Description = "Training text files (UTF-8); repeat or list several.", Required = true, AllowMultipleArgumentsPerToken = true }
            .AcceptExistingFile();
        var vocabSizeOption = new Option<int>("--vocab-size") { Description = "Total vocabulary: 256 bytes + merges + special tokens (<|endoftext|>, <|pad|>).", Required = true }
            .InRange(256 + BpeTrainer.DefaultSpecialTokens.Count, 1 << 20);
        var outOption = new Option<string>("--out") { Description = "Where to write the tokenizer.json.", Required = true }.AcceptWritableFile();
        var command = new Command("train-tokenizer", "Train a byte-level BPE tokenizer (Qwen2-style tokenizer.json) on text files.")
        {
            inputOption,
            vocabSizeOption,
            outOption,
        };
        command.SetAction(parseResult => UserErrors.Run(() =>
        {
            string[] inputs = parseResult.GetValue(inputOption)!;
            string output = parseResult.GetValue(outOption)!;
            var options = new BpeTrainerOptions { VocabSize = parseResult.GetValue(vocabSizeOption) };
            var stopwatch = Stopwatch.StartNew();
            BpeTrainer.Train(inputs.Select(File.ReadAllText), options, output);
            HfTokenizer trained = HfTokenizer.Load(output);
            Console.Error.WriteLine($"wrote {output}: vocab size {trained.VocabSize} from {inputs.Length} file(s) in {stopwatch.Elapsed.TotalSeconds:F2} s");
            return 0;
        }));
        return command;
    }
}
