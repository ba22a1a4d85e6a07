using Flow.TestSupport;

// One private Azurite for the whole test assembly (Queue and Table tests share it; each test uses unique names).
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
