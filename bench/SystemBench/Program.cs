using Seccm.Host.Verbs;

return await BenchVerb.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
