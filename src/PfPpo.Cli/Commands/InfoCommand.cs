using System.CommandLine;
using PfPpo.Runtime;
using TorchSharp;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo info</c>: what this build of PfPpo can use (threads, CUDA, libtorch).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the runtime: libtorch threads and CUDA availability.");
        command.SetAction(_ =>
        {
            TorchRuntime.Initialize();
            Console.WriteLine($"threads: {torch.get_num_threads()}");
            Console.WriteLine($"cuda:    {(torch.cuda.is_available() ? $"{torch.cuda.device_count()} device(s)" : "not available (CPU build)")}");
            return 0;
        });
        return command;
    }
}
