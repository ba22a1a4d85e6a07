using Flow.TestSupport;

[assembly: AssemblyFixture(typeof(PostgresFixture))]
