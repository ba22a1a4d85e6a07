using Flow.TestSupport;

// One private Azurite for the whole test assembly.
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
