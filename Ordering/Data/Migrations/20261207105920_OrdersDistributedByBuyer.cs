using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Data.Migrations
{
    /// <inheritdoc />
    public partial class OrdersDistributedByBuyer : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Already there in the AppHost's clusters and in a managed one; a single-node Citus server has it to create.
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS citus;");

            migrationBuilder.EnsureSchema(
                name: "ordering");

            migrationBuilder.CreateTable(
                name: "inbox",
                schema: "ordering",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    BuyerId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ProcessedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbox", x => new { x.BuyerId, x.MessageId });
                });

            migrationBuilder.CreateTable(
                name: "orders",
                schema: "ordering",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    BuyerId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    IdempotencyKey = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    BuyerName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    ShippingAddress_Street = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ShippingAddress_City = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ShippingAddress_PostalCode = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ShippingAddress_Country = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RejectionReason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Total = table.Column<decimal>(type: "numeric(12,2)", precision: 12, scale: 2, nullable: false),
                    SubmittedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    MailSentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_orders", x => new { x.BuyerId, x.Id });
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 50);

            migrationBuilder.CreateTable(
                name: "outbox",
                schema: "ordering",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    BuyerId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Payload = table.Column<string>(type: "jsonb", nullable: false),
                    TraceParent = table.Column<string>(type: "character varying(55)", maxLength: 55, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox", x => new { x.BuyerId, x.MessageId });
                });

            migrationBuilder.CreateTable(
                name: "mail_owed",
                schema: "ordering",
                columns: table => new
                {
                    BuyerId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    DecidedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_mail_owed", x => new { x.BuyerId, x.OrderId });
                    table.ForeignKey(
                        name: "FK_mail_owed_orders_BuyerId_OrderId",
                        columns: x => new { x.BuyerId, x.OrderId },
                        principalSchema: "ordering",
                        principalTable: "orders",
                        principalColumns: new[] { "BuyerId", "Id" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "order_lines",
                schema: "ordering",
                columns: table => new
                {
                    BuyerId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProductId = table.Column<int>(type: "integer", nullable: false),
                    ProductName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    UnitPrice = table.Column<decimal>(type: "numeric(10,2)", precision: 10, scale: 2, nullable: false),
                    Quantity = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_order_lines", x => new { x.BuyerId, x.OrderId, x.ProductId });
                    table.ForeignKey(
                        name: "FK_order_lines_orders_BuyerId_OrderId",
                        columns: x => new { x.BuyerId, x.OrderId },
                        principalSchema: "ordering",
                        principalTable: "orders",
                        principalColumns: new[] { "BuyerId", "Id" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_mail_owed_DecidedAt",
                schema: "ordering",
                table: "mail_owed",
                column: "DecidedAt");

            migrationBuilder.CreateIndex(
                name: "IX_orders_BuyerId_IdempotencyKey",
                schema: "ordering",
                table: "orders",
                columns: new[] { "BuyerId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_orders_BuyerId_SubmittedAt",
                schema: "ordering",
                table: "orders",
                columns: new[] { "BuyerId", "SubmittedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_pending",
                schema: "ordering",
                table: "outbox",
                column: "MessageId",
                filter: "\"SentAt\" IS NULL");

            // Every table distributed by the buyer and co-located with the orders, each after the table its foreign key
            // refers to (OrderingDbContext.Distribution); spelled out, as a migration must not change with the code.
            migrationBuilder.Sql("""
                SELECT create_distributed_table('ordering.orders', 'BuyerId', shard_count => 4);
                SELECT create_distributed_table('ordering.order_lines', 'BuyerId', colocate_with => 'ordering.orders');
                SELECT create_distributed_table('ordering.mail_owed', 'BuyerId', colocate_with => 'ordering.orders');
                SELECT create_distributed_table('ordering.outbox', 'BuyerId', colocate_with => 'ordering.orders');
                SELECT create_distributed_table('ordering.inbox', 'BuyerId', colocate_with => 'ordering.orders');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inbox",
                schema: "ordering");

            migrationBuilder.DropTable(
                name: "mail_owed",
                schema: "ordering");

            migrationBuilder.DropTable(
                name: "order_lines",
                schema: "ordering");

            migrationBuilder.DropTable(
                name: "outbox",
                schema: "ordering");

            migrationBuilder.DropTable(
                name: "orders",
                schema: "ordering");
        }
    }
}
