using System.CommandLine;
using PfPpo.Cli;

return Cli.Build().Parse(args).Invoke();
