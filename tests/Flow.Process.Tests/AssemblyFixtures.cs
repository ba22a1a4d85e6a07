using Flow.TestSupport;

[assembly: AssemblyFixture(typeof(AzuriteFixture))]
