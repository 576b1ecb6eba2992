using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AspireShop.Ordering.Data.Migrations
{
    /// <inheritdoc />
    public partial class MailOwedRecord : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_orders_mail_owed",
                schema: "ordering",
                table: "orders");

            migrationBuilder.AlterTable(
                name: "orders",
                schema: "ordering")
                .Annotation("Npgsql:StorageParameter:fillfactor", 80);

            migrationBuilder.CreateTable(
                name: "mail_owed",
                schema: "ordering",
                columns: table => new
                {
                    OrderId = table.Column<Guid>(type: "uuid", nullable: false),
                    DecidedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_mail_owed", x => x.OrderId);
                    table.ForeignKey(
                        name: "FK_mail_owed_orders_OrderId",
                        column: x => x.OrderId,
                        principalSchema: "ordering",
                        principalTable: "orders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_mail_owed_DecidedAt",
                schema: "ordering",
                table: "mail_owed",
                column: "DecidedAt");

            // Mails owed before this migration were the decided orders without MailSentAt: they stay owed.
            migrationBuilder.Sql("""
                INSERT INTO ordering.mail_owed ("OrderId", "DecidedAt")
                SELECT "Id", "CompletedAt" FROM ordering.orders WHERE "MailSentAt" IS NULL AND "Status" <> 'Submitted'
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "mail_owed",
                schema: "ordering");

            migrationBuilder.AlterTable(
                name: "orders",
                schema: "ordering")
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 80);

            migrationBuilder.CreateIndex(
                name: "IX_orders_mail_owed",
                schema: "ordering",
                table: "orders",
                column: "CompletedAt",
                filter: "\"MailSentAt\" IS NULL AND \"Status\" <> 'Submitted'");
        }
    }
}
