// Open a confirmation <dialog data-modal> as a modal as soon as htmx puts it on the page.
document.addEventListener("DOMContentLoaded", () => {
  htmx.onLoad((root) => {
    const dialogs = root.matches?.("dialog[data-modal]") ? [root] : [];
    dialogs.push(...(root.querySelectorAll?.("dialog[data-modal]") ?? []));
    for (const dialog of dialogs) {
      if (!dialog.open) dialog.showModal();
    }
  });
});
