using PfPpo.Cli;

return Cli.Build().Parse(args).Invoke();
