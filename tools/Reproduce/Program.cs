using Seccm.Host.Verbs;

return await ReproduceVerb.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
